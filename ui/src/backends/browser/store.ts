// The browser's offline cache: one IndexedDB object store of JSON values under
// string keys, each key prefixed by the account (`<userId>/studies`,
// `<userId>/messages/<studyId>`, …) so signing out wipes exactly that account.
// IndexedDB rather than localStorage: it is asynchronous (a long chat history
// does not block the page), holds far more, and the service worker could read it.
// When IndexedDB cannot be opened (a private window of some browsers), a Map
// stands in: the app works, the cache just does not survive a reload.

export interface KeyValue {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `prefix`. */
  clear(prefix: string): Promise<void>;
}

const DB = "coup";
const STORE = "kv";

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB cannot be opened"));
    request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
  });
}

export async function indexedStore(): Promise<KeyValue> {
  let db: IDBDatabase;
  try {
    db = await open();
  } catch {
    return memoryStore();
  }
  const store = (mode: IDBTransactionMode): IDBObjectStore => db.transaction(STORE, mode).objectStore(STORE);
  return {
    get: async <T>(key: string) => (await promised(store("readonly").get(key))) as T | undefined,
    set: async (key, value) => {
      await promised(store("readwrite").put(value, key));
    },
    delete: async (key) => {
      await promised(store("readwrite").delete(key));
    },
    clear: async (prefix) => {
      // Every key with the prefix sorts between it and the prefix followed by
      // the highest code unit.
      await promised(store("readwrite").delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
    },
  };
}

export function memoryStore(): KeyValue {
  const map = new Map<string, string>();
  return {
    get: <T>(key: string) => {
      const raw = map.get(key);
      return Promise.resolve(raw === undefined ? undefined : (JSON.parse(raw) as T));
    },
    set: (key, value) => {
      map.set(key, JSON.stringify(value));
      return Promise.resolve();
    },
    delete: (key) => {
      map.delete(key);
      return Promise.resolve();
    },
    clear: (prefix) => {
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
      return Promise.resolve();
    },
  };
}
