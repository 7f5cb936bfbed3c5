import { closest } from './suggest.js';

/** Every intrinsic function of the language. */
export const functionNames: ReadonlySet<string> = new Set([
  'get_param',
  'get_resource',
  'get_attr',
  'list_join',
  'str_replace',
  'if',
  'equals',
  'and',
  'or',
  'not',
  'find_in_map',
  'get_file',
]);

/** CloudFormation spellings people carry over, and what Drover calls them. */
const cloudFormation: Record<string, string> = {
  Ref: 'get_resource (or get_param for a parameter)',
  'Fn::GetAtt': 'get_attr',
  'Fn::Join': 'list_join',
  'Fn::Sub': 'str_replace',
  'Fn::If': 'if',
  'Fn::Equals': 'equals',
  'Fn::And': 'and',
  'Fn::Or': 'or',
  'Fn::Not': 'not',
  'Fn::FindInMap': 'find_in_map',
  'Fn::Select': 'get_param with a key path',
  get_attribute: 'get_attr',
  get_parameter: 'get_param',
};

/**
 * " (did you mean 'x'?)" when `key` looks like a misspelt function name, else ''.
 * Only function-shaped keys count (lowercase with '_', or CloudFormation's), so
 * an environment variable called `IF` is never taken for one.
 */
export function unknownFunctionHint(key: string): string {
  if (functionNames.has(key)) return '';
  const cfn = cloudFormation[key];
  if (cfn !== undefined) return ` (did you mean '${cfn}'?)`;
  if (!/^[a-z]+(_[a-z]+)+$/.test(key)) return '';
  const match = closest(key, functionNames);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}
