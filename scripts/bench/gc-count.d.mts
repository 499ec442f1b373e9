/** Young-generation collections that started while `run()` executed. */
export function scavengesDuring(run: () => void): Promise<number>;
