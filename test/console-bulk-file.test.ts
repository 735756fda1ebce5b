import { describe, expect, it } from 'vitest';
import { parts, rejectedCsv, splitRecords } from '../console/src/bulk-file';

/** The console's bulk file handling (console/src/bulk-file.ts): records by line, parts, the rejected rows as CSV. */
describe("the console's bulk file", () => {
  it('numbers CSV records by the line they start on, a quoted line break included, and skips blank lines', () => {
    const text = 'name,serialNumber\r\n"A\nB",SN-1\n\nC,SN-2\n';
    expect(splitRecords(text, true)).toEqual({
      header: 'name,serialNumber',
      records: [
        { line: 2, text: '"A\nB",SN-1' },
        { line: 5, text: 'C,SN-2' },
      ],
    });
    expect(splitRecords('{"a":1}\n\n{"a":2}\n', false)).toEqual({
      records: [
        { line: 1, text: '{"a":1}' },
        { line: 3, text: '{"a":2}' },
      ],
    });
  });

  it('cuts a file into parts, each with the header, and maps each part’s lines back to the file’s', () => {
    const { header, records } = splitRecords('h\n"x\ny"\nb\nc\n', true);
    const p = parts(header, records, 2);
    expect(p.map((x) => [x.body, x.rows, [...x.lineOf]])).toEqual([
      [
        'h\n"x\ny"\nb\n',
        2,
        [
          [2, 2],
          [4, 4],
        ],
      ],
      ['h\nc\n', 1, [[2, 5]]],
    ]);
  });

  it('writes the rejected rows with their line, their errors and the row as sent', () => {
    const { header, records } = splitRecords('name,rated\n"Big, battery",5\nok,1\n', true);
    expect(
      rejectedCsv(header, records, [{ row: 2, errors: [{ field: 'rated', code: 'ASSET-CAPACITY', detail: 'Too "big", really' }] }]),
    ).toBe('line,errors,name,rated\n2,"ASSET-CAPACITY rated: Too ""big"", really","Big, battery",5\n');
  });
});
