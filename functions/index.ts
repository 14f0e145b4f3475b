/**
 * The Cloud Functions entry point (package.json "main"): registers the six
 * functions with functions-framework; Terraform deploys each by name.
 */
import './framework-errors.js'; // first: before functions-framework makes its app
import './generate-dataset.js';
import './loaders.js';
import './record-dataset-metadata.js';

export {FUNCTION_NAMES, type FunctionName} from './names.js';
