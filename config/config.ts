// The config's public face: what index.ts, the components, the scripts and the tests import.
// The settings themselves are in settings.ts, one entry a key; reading them is in read.ts.
export { httpsPort } from "./droplet-choices";
export { minimumPasswordLength } from "./password";
export { ConfigError, ConfigProblem, formatProblem, formatProblems, namespace } from "./problems";
export { ConfigReading, ConfigSource, readConfig } from "./read";
export { configKeys, defaults, DropletConfig, settings } from "./settings";
