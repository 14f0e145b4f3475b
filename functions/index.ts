/**
 * The Cloud Functions entry point (package.json "main"): puts the front
 * door before functions-framework's body parsers, then registers the seven
 * functions; Terraform deploys each by name. functions-framework builds its
 * Express app only after this module has loaded, so the door is in place.
 */
import {installFrontDoor} from './framework-hook.js';
import './generate-dataset.js';
import './generate-shard.js';
import './loaders.js';
import './record-dataset-metadata.js';

installFrontDoor();

export {FUNCTION_NAMES, type FunctionName} from './function-names.js';
