// Worker entry for parallel scans (filled in with the fast scanner).
export {};
