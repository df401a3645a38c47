/**
 * The API key lives in sessionStorage: it survives a reload of this tab, is gone when the tab closes,
 * and is never put in a URL (URLs end up in history, logs and Referer headers).
 */
const KEY = "ferry.apiKey";

export function loadKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(KEY, key);
  } catch {
    // Storage disabled: the key stays in memory for this page only.
  }
}

export function clearKey(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
