export { MemoryStorage, type MemoryStorageOptions, openMemoryStorage } from "./memory-storage.js";
