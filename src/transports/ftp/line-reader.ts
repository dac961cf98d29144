// Splits the control connection into command lines. RFC 959 §4.1.3: a command ends with <CRLF>;
// bare <LF> is accepted too (some clients and every hand-typed telnet session send it). The
// control connection is a Telnet NVT (RFC 959 §4.1, RFC 854): clients send IAC IP / IAC DM before
// ABOR (RFC 959 §4.1.3, ABORT), so Telnet commands are stripped from each line.
// A line longer than `maxBytes` is discarded up to its end and reported once, so a peer can neither
// grow the buffer without bound nor desynchronise the next command.

const LF = 0x0a;
const CR = 0x0d;
const IAC = 0xff;

export interface LineReaderEvents {
  line(text: string): void;
  overlong(): void;
}

export class ControlLineReader {
  private parts: Buffer[] = [];
  private buffered = 0;
  private skipping = false;
  private stopped = false;

  constructor(
    private readonly maxBytes: number,
    private readonly on: LineReaderEvents,
  ) {}

  /** Drops everything from here on, including the rest of a chunk being split (RFC 4217 §4, after AUTH). */
  stop(): void {
    this.stopped = true;
    this.parts = [];
  }

  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length && !this.stopped) {
      const lf = chunk.indexOf(LF, from);
      const end = lf === -1 ? chunk.length : lf;
      if (!this.skipping) {
        const piece = chunk.subarray(from, end);
        if (this.buffered + piece.length > this.maxBytes) {
          this.parts = [];
          this.buffered = 0;
          this.skipping = true;
          this.on.overlong();
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.buffered += piece.length;
        }
      }
      if (lf === -1) return;
      from = lf + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const raw = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      this.parts = [];
      this.buffered = 0;
      this.on.line(decodeLine(raw));
    }
  }
}

/** Drops a trailing CR and Telnet commands, then decodes UTF-8 (RFC 2640; UTF-8 never contains 0xFF). */
export function decodeLine(raw: Buffer): string {
  let end = raw.length;
  if (end > 0 && raw[end - 1] === CR) end--;
  let bytes = raw.subarray(0, end);
  if (bytes.includes(IAC)) bytes = stripTelnet(bytes);
  return bytes.toString('utf8');
}

function stripTelnet(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== IAC) {
      out.push(b);
      continue;
    }
    const cmd = bytes[i + 1];
    if (cmd === IAC) {
      out.push(IAC); // IAC IAC is a literal 0xFF data byte
      i++;
    } else if (cmd !== undefined && cmd >= 0xfb && cmd <= 0xfe) {
      i += 2; // WILL/WONT/DO/DONT <option>
    } else {
      i++; // IP, DM, AYT, … (two bytes)
    }
  }
  return Buffer.from(out);
}
