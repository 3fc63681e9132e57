import { createInterface } from "node:readline";

/** Reads every line of standard input (for scripted use: `printf 'name\npass\n' | fairywren adduser`). */
export async function readStdinLines(): Promise<string[]> {
  const text = await Bun.stdin.text();
  return text.split(/\r?\n/);
}

/** Asks a question on the terminal; with `hidden`, typed characters are not echoed. */
export function ask(question: string, hidden = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    if (hidden) {
      // readline echoes through _writeToOutput; replacing it hides the password as it is typed.
      const internal = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
      internal._writeToOutput = (s: string) => {
        if (s.startsWith(question)) internal.output.write(question);
        else if (s.includes("\n") || s.includes("\r")) internal.output.write("\n");
      };
    }
    rl.on("SIGINT", () => {
      rl.close();
      reject(new Error("cancelled"));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}
