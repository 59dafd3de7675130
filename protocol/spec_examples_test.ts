/**
 * The examples of protocol/README.md are test vectors: every transcript
 * line, hex dump, layout, content example, table of payloads or framing
 * errors and JSON message of the spec is read from it and checked against
 * the encoders and decoders of this directory, byte for byte. §11 of the
 * spec says which forms its examples take; the spec's tables of requests,
 * responses, events and statuses are checked against methods.ts.
 */
import assert from "node:assert/strict";
import {
  formatMessageLines,
  formatNameList,
  formatRows,
  parseCounts,
  parseMessageLines,
  parseRows,
  splitLines,
} from "./content.ts";
import { frame, FrameDecoder, HEADER_SIZE } from "./frame.ts";
import { messageToJson, parseJsonMessage } from "./json_mapping.ts";
import { encodeMessage, type Message, parseMessage } from "./message.ts";
import {
  CAPABILITIES,
  Event,
  PROTOCOL_VERSION,
  REQUESTS,
  Response,
  type ResponseMethod,
  Status,
  type StatusCode,
} from "./methods.ts";
import {
  encodeOriginalMessage,
  formatOriginalMemberList,
  formatOriginalMessages,
  formatOriginalRoomList,
} from "./original.ts";

const SPEC = await Deno.readTextFile(new URL("./README.md", import.meta.url));
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A fenced block of the spec: its kind (first word of the info string), the rest, its lines. */
interface Block {
  kind: string;
  arg: string;
  lines: string[];
}

const BLOCKS: Block[] = [...SPEC.matchAll(/^```([\w-]*)(?: (.*))?\n([\s\S]*?)^```$/gm)].map((
  [, kind, arg, body],
) => ({ kind, arg: arg ?? "", lines: body.replace(/\n$/, "").split("\n") }));

function blocks(kind: string): Block[] {
  return BLOCKS.filter((block) => block.kind === kind);
}

/** The spec's escapes in examples: `\n` LF, `\t` TAB, `\r` CR, `\\` a backslash. */
function unescape(escaped: string): string {
  return escaped.replace(/\\([\\ntr])/g, (_, c: string) => ESCAPES[c]);
}
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\" };

/** The text of a section, from its heading to the next heading. */
function section(heading: string): string {
  const start = SPEC.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the spec has ${heading}`);
  const end = SPEC.slice(start + heading.length + 2).search(/\n#{2,3} /);
  return SPEC.slice(start, end === -1 ? undefined : start + heading.length + 2 + end);
}

/** The rows of the table in `text` whose header row starts with `header`, as cells. */
function tableRows(text: string, header: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${header} `));
  assert.ok(start >= 0, `a table headed ${header}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((cell) => cell.trim()));
  }
  return rows;
}

/** The text of a cell that is one code span. */
function code(cell: string): string {
  const span = cell.match(/^`(.*)`$/);
  assert.ok(span, `a code span: ${cell}`);
  return span[1];
}

/** Readable bytes for assertion messages: the header in hex, the payload as text. */
function show(bytes: Uint8Array): string {
  const header = [...bytes.subarray(0, HEADER_SIZE)].map((b) => b.toString(16).padStart(2, "0"));
  return `${header.join(" ")} ${JSON.stringify(text.decode(bytes.subarray(HEADER_SIZE)))}`;
}

/**
 * What the original client writes for a request: the encoder's payload
 * without the final blank line when there is no content (spec §1).
 */
function originalClientFrame(message: Message): Uint8Array {
  const encoded = encodeMessage(message);
  if (message.content !== undefined) return encoded;
  return frame(encoded.subarray(HEADER_SIZE, encoded.length - 2));
}

/**
 * Checks that a frame's content is what the content formats of §9 (or of
 * §15.3) write for its method; false when the method has no such format.
 */
function checkContent(message: Message, original: boolean, where: string): boolean {
  const content = message.content ?? "";
  const rows = (fields: number) => formatRows(parseRows(content, fields));
  const names = () => formatNameList(splitLines(content));
  const formats: Record<string, () => string> = original
    ? {
      RESP_LIST_ROOMS: () =>
        formatOriginalRoomList(
          content.split("\n").map((row) => {
            const [name, members] = row.split("\t");
            return { name, members: Number(members) };
          }),
        ),
      RESP_LIST_MEMBERS: () => formatOriginalMemberList(content.split("\n")),
      NEW_MSG: () =>
        formatOriginalMessages(
          content.split("\t\t").map((record) => {
            const [from, time, text] = record.split("\t");
            return { from, time, content: text };
          }),
        ),
    }
    : {
      RESP_LIST_ROOMS: () => {
        const counts = parseCounts(message.params["Member-Counts"]);
        assert.equal(counts.length, splitLines(content).length, `a count per room: ${where}`);
        return names();
      },
      RESP_LIST_MEMBERS: names,
      RESP_LIST_DIRECT: names,
      NEW_MSG: () => formatMessageLines(parseMessageLines(content)),
      RESP_HISTORY: () => rows(4),
      RESP_SEARCH: () => rows(5),
      RESP_WHO: () => rows(3),
    };
  const format = formats[message.method];
  if (!format) return false;
  if (message.params.Status === "OK") assert.equal(format(), content, `the content of ${where}`);
  return true;
}

/** The transcript lines of a block: [line, who, direction, Packet-Length, payload]. */
function transcript(block: Block): RegExpMatchArray[] {
  return block.lines.filter((line) => !/^\s+\(.*\)$/.test(line)).map((line) => {
    const step = line.match(/^(\S+)\s+(C→S|S→C)\s+\[(\d+)\]\s+(.*)$/);
    assert.ok(step, `a transcript line: ${line}`);
    return step;
  });
}

Deno.test("every transcript line of the spec is a frame the encoders write, byte for byte", () => {
  let checked = 0;
  for (const kind of ["claptrap-frames", "claptrap-original"]) {
    const original = kind === "claptrap-original";
    for (const block of blocks(kind)) {
      for (const [line, , direction, length, escaped] of transcript(block)) {
        const payload = utf8.encode(unescape(escaped));
        assert.equal(HEADER_SIZE + payload.length, Number(length), `the Packet-Length of ${line}`);
        const message = parseMessage(payload);
        const written = frame(payload);
        if (direction === "C→S") {
          const ours = show(encodeMessage(message));
          const theirs = show(originalClientFrame(message));
          if (original) assert.equal(show(written), theirs, line);
          else assert.ok([ours, theirs].includes(show(written)), `${line}\nencoder: ${ours}`);
        } else {
          const encoded = original
            ? encodeOriginalMessage(
              message.method as ResponseMethod,
              message.params.Status as StatusCode,
              message.content,
            )
            : encodeMessage(message);
          assert.equal(show(written), show(encoded), line);
          checkContent(message, original, line);
        }
        checked++;
      }
    }
  }
  assert.ok(checked >= 100, `the spec's transcripts hold ${checked} frames`);
});

Deno.test("the spec's hex dumps are whole frames the encoder writes, and their layouts name their bytes", () => {
  const dumps = BLOCKS.flatMap((block, i) => block.kind === "claptrap-hex" ? [i] : []);
  assert.ok(dumps.length >= 3, "the spec has hex dumps");
  let layouts = 0;
  for (const i of dumps) {
    const bytes: number[] = [];
    for (const line of BLOCKS[i].lines) {
      const row = line.match(/^([0-9a-f]{4}) {2}([0-9a-f ]+?) +\|(.*)\|$/);
      assert.ok(row, `a hex dump row: ${line}`);
      assert.equal(parseInt(row[1], 16), bytes.length, `the offset of ${line}`);
      const rowBytes = row[2].trim().split(/ +/).map((hex) => parseInt(hex, 16));
      const ascii = rowBytes.map((b) => b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".");
      assert.equal(row[3], ascii.join(""), `the ASCII column of ${line}`);
      bytes.push(...rowBytes);
    }
    const whole = new Uint8Array(bytes);
    const decoder = new FrameDecoder();
    const payloads = decoder.push(whole);
    assert.ok(payloads.length === 1 && decoder.buffered === 0 && !decoder.error, "one frame");
    const message = parseMessage(payloads[0]);
    const encoded = [encodeMessage(message), originalClientFrame(message)].map(show);
    assert.ok(encoded.includes(show(whole)), `${show(whole)}\nencoder: ${encoded[0]}`);
    const layout = BLOCKS[i + 1];
    if (layout?.kind === "claptrap-layout") {
      checkLayout(layout, whole);
      layouts++;
    }
  }
  assert.equal(layouts, blocks("claptrap-layout").length, "every layout follows its hex dump");
});

/** Checks that a layout's rows cover the frame's bytes in order, each naming its bytes. */
function checkLayout(layout: Block, bytes: Uint8Array): void {
  let next = 0;
  for (const line of layout.lines) {
    const row = line.match(
      /^([0-9a-f]{4})(?:-([0-9a-f]{4}))?\s+(?:"((?:[^"\\]|\\.)*)"|((?:[0-9a-f]{2} )*[0-9a-f]{2}))(?:\s+(.*))?$/,
    );
    assert.ok(row, `a layout row: a range, then its bytes as "text" or hex: ${line}`);
    const [, from, to, quoted, hex, description] = row;
    const start = parseInt(from, 16);
    const end = parseInt(to ?? from, 16) + 1;
    assert.equal(start, next, `the layout leaves no byte out: ${line}`);
    const expected = quoted !== undefined
      ? utf8.encode(unescape(quoted))
      : new Uint8Array(hex.split(" ").map((h) => parseInt(h, 16)));
    assert.deepEqual([...bytes.subarray(start, end)], [...expected], line);
    const length = description?.match(/Packet-Length: (\d+)/);
    if (length) assert.equal(Number(length[1]), bytes.length, line);
    next = end;
  }
  assert.equal(next, bytes.length, "the layout covers the whole frame");
}

Deno.test("the spec's content examples are what the content formats write", () => {
  const examples = blocks("claptrap-content");
  assert.ok(examples.length >= 6, "the spec has content examples");
  for (const { arg, lines } of examples) {
    const content = unescape(lines.join(""));
    assert.ok(content.endsWith("\n"), `every row of ${arg} ends with LF`);
    const message: Message = { method: arg, params: { Status: "OK" }, content };
    if (arg === "RESP_LIST_ROOMS") message.params["Member-Counts"] = lines.map(() => "0").join(",");
    assert.ok(checkContent(message, false, arg), `a content format the test knows: ${arg}`);
  }
});

Deno.test("the framing errors of spec §2 are what the frame decoder reports", () => {
  const rows = tableRows(section("## 2. Framing"), "Bytes received");
  assert.ok(rows.length >= 3);
  for (const [bytesCell, reasonCell] of rows) {
    const bytes = new Uint8Array(code(bytesCell).split(" ").map((hex) => parseInt(hex, 16)));
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(bytes), [], bytesCell);
    assert.equal(decoder.error?.message, code(reasonCell), bytesCell);
  }
});

Deno.test("the payloads of spec §3.3 parse to the messages (or the errors) it gives", () => {
  const rows = tableRows(section("### 3.3 What a decoder accepts"), "Payload");
  assert.ok(rows.length >= 15);
  for (const [payloadCell, resultCell] of rows) {
    const payload = payloadCell.startsWith("(empty payload") ? "" : unescape(code(payloadCell));
    const bytes = utf8.encode(payload);
    const error = resultCell.match(/^error: `(.*)`$/);
    if (error) {
      assert.throws(() => parseMessage(bytes), { name: "SyntaxError", message: error[1] });
    } else {
      assert.equal(messageToJson(parseMessage(bytes)), code(resultCell), payloadCell);
    }
  }
});

Deno.test("the JSON messages of spec §14.2 stand for the frames it gives, and its refusals are parseJsonMessage's", () => {
  const mapping = section("### 14.2 The mapping");
  const pairs = tableRows(mapping, "JSON text");
  assert.ok(pairs.length >= 4);
  for (const [jsonCell, payloadCell] of pairs) {
    const json = code(jsonCell);
    const payload = unescape(code(payloadCell));
    assert.deepEqual(parseJsonMessage(json), parseMessage(utf8.encode(payload)), json);
    assert.equal(
      text.decode(encodeMessage(parseJsonMessage(json)).subarray(HEADER_SIZE)),
      payload,
      json,
    );
  }
  const refusals = tableRows(mapping, "WebSocket text message");
  assert.ok(refusals.length >= 10);
  for (const [jsonCell, reasonCell] of refusals) {
    assert.throws(() => parseJsonMessage(code(jsonCell)), {
      name: "SyntaxError",
      message: code(reasonCell),
    });
  }
});

Deno.test("the JSON session of spec §14.4 is what the JSON mapping writes and refuses", () => {
  const [session] = blocks("claptrap-json");
  assert.ok(session && session.lines.length >= 10, "the spec has a JSON session");
  session.lines.forEach((line, i) => {
    const step = line.match(/^(→|←) (.*)$/);
    assert.ok(step, `a JSON line: ${line}`);
    const [, direction, json] = step;
    if (direction === "←") {
      const message = parseJsonMessage(json);
      assert.equal(messageToJson(message), json, line);
      assert.deepEqual(parseMessage(encodeMessage(message).subarray(HEADER_SIZE)), message, line);
      checkContent(message, false, line);
      return;
    }
    try {
      parseJsonMessage(json);
    } catch (error) {
      const answer = parseJsonMessage(session.lines[i + 1].replace(/^← /, ""));
      assert.equal(answer.method, "ERROR", `a refused message is answered ERROR: ${line}`);
      assert.equal(answer.params.Reason, (error as Error).message, line);
    }
  });
});

Deno.test("the spec's tables list exactly the requests, responses, events and statuses of methods.ts", () => {
  const requests = tableRows(section("## 5. Requests"), "Request");
  assert.deepEqual(requests.map(([method]) => code(method)), Object.keys(REQUESTS));
  for (const [method, required, , , answeredBy] of requests) {
    const spec = REQUESTS[code(method) as keyof typeof REQUESTS];
    const names = [...required.replace(/\(.*?\)/g, "").matchAll(/`([\w-]+)`/g)].map(([, n]) => n);
    assert.deepEqual(names, [...spec.required], `the required parameters of ${method}`);
    assert.ok(
      answeredBy.includes(`\`${spec.response}\``),
      `${method} is answered by ${answeredBy}`,
    );
  }
  const responses = tableRows(section("## 6. Responses"), "Response").map(([m]) => code(m));
  assert.deepEqual(responses.toSorted(), Object.keys(Response).toSorted());
  const events = tableRows(section("## 7. Events"), "Event").map(([m]) => code(m));
  assert.deepEqual(events, Object.keys(Event));
  const statuses = tableRows(section("## 8. Status values"), "Status").map(([s]) => code(s));
  assert.deepEqual(statuses, Object.keys(Status));
  const hello = section("### HELLO").replace(/\s+/g, "");
  assert.ok(hello.includes(`\`${CAPABILITIES.join(",")}\``), "HELLO lists the capabilities");
  assert.ok(hello.includes(`speaks\`${PROTOCOL_VERSION}\``), "HELLO names the version");
});
