/** What a view says until the device's storage has been read: it renders before (UP-6). */
export const STORAGE_READING = 'Reading this device’s storage…';
