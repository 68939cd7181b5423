/**
 * Reads a password for an operator script without it ever being an argument (arguments land in
 * shell history and in `ps` for every user of the machine): at a terminal, a prompt that echoes
 * nothing, asked twice; otherwise the whole of stdin, one line, its final newline dropped.
 */

const MAX_INPUT_BYTES = 4_096;

/** Reads the password from `input`: a hidden prompt (twice) when it is a terminal, else stdin. */
export async function readPassword(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (!input.isTTY) return readPasswordFromPipe(input);
  const first = await promptHidden('Password: ', input, output);
  const second = await promptHidden('Password again: ', input, output);
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

/** All of stdin as one line: a final `\n` or `\r\n` is dropped, any other line break is refused. */
export async function readPasswordFromPipe(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`the password on stdin is longer than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw new Error('stdin must hold the password on one line');
  return text;
}

/** One line typed at the terminal with echo off; Ctrl-C aborts, Backspace edits. */
function promptHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  // Echo off before the prompt shows: a fast typist (or a script) may answer at once.
  input.setRawMode(true);
  output.write(prompt);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (settle: () => void) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      settle();
    };
    const onData = (data: string) => {
      for (const character of data) {
        if (character === '\r' || character === '\n') return finish(() => resolve(typed));
        if (character === '\u0003') return finish(() => reject(new Error('cancelled')));
        if (character === '\u0004' && typed === '') return finish(() => reject(new Error('no password typed')));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else if (character >= ' ') typed += character;
      }
    };
    input.on('data', onData);
  });
}
