/** A response's body: parsed when it is JSON, else its text (undefined when empty). Reads the body once. */
export async function readBody(res: Response): Promise<{ text: string; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = await res.text();
  try {
    return { text, body: text ? JSON.parse(text) : undefined };
  } catch {
    return { text, body: text };
  }
}
