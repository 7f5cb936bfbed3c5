/** Where a failed attempt stopped. `registry`: following the registry itself failed. */
export type RenderPhase = 'registry' | 'render' | 'write' | 'reload';

interface EventBase {
  /** The ConfigTemplate resource (qualified name). */
  readonly name: string;
  readonly destination: string;
  /** The registry (store) revision the text was rendered from. */
  readonly revision: number;
}

interface WithContent extends EventBase {
  /** sha256 (hex) of the rendered text. */
  readonly sha256: string;
}

/**
 * What a renderer reports, in order, for each attempt:
 * - `rendered`: the text differed from the destination's and was written.
 * - `unchanged`: the destination already held exactly this text; nothing written.
 * - `reloaded`: the reload command succeeded for this text (`output` is what it printed).
 * - `failed`: the attempt stopped at `phase`; another follows in `retryInMs`
 *   (the `attempt`-th failure in a row; a success starts counting again).
 */
export type RenderEvent =
  | (WithContent & { readonly type: 'rendered'; readonly bytes: number })
  | (WithContent & { readonly type: 'unchanged' })
  | (WithContent & { readonly type: 'reloaded'; readonly output: string })
  | (EventBase & {
      readonly type: 'failed';
      readonly phase: RenderPhase;
      /** Absent when rendering itself failed. */
      readonly sha256?: string;
      /** The error's stable code (`TEMPLATE_RENDER`, `RENDER_WRITE`, `RELOAD_FAILED`…). */
      readonly code: string;
      readonly error: string;
      /** What the reload command printed, for a reload failure. */
      readonly output?: string;
      readonly attempt: number;
      readonly retryInMs: number;
    });

export type RenderEventType = RenderEvent['type'];
