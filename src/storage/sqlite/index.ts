export { openSqliteStorage, type SqliteStorageOptions } from "./open.js";
export { sqlitePathFromUrl } from "./url.js";
