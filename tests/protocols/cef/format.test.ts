/**
 * CEF output against the escaping rules of the ArcSight CEF specification ("Implementing
 * ArcSight CEF", Character Encoding), with the spec's own examples and hostile input: pipes,
 * backslashes, equals signs and newlines in every place they can appear, and a property that the
 * output always has exactly seven unescaped header pipes and no raw line break.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cefSeverity, escapeExtensionValue, escapeHeader, formatCef } from '../../../protocols/cef/format.ts';

describe('CEF escaping', () => {
  it('escapes the spec examples', () => {
    // Header: "detected a \| in message", "detected a \\ in packet".
    assert.equal(escapeHeader('detected a | in message'), 'detected a \\| in message');
    assert.equal(escapeHeader('detected a \\ in packet'), 'detected a \\\\ in packet');
    // Extension: "detected a \= in message", "detected a \\ in packet", pipes unescaped.
    assert.equal(escapeExtensionValue('detected a = in message'), 'detected a \\= in message');
    assert.equal(escapeExtensionValue('detected a \\ in packet'), 'detected a \\\\ in packet');
    assert.equal(escapeExtensionValue('a | b'), 'a | b');
    assert.equal(escapeExtensionValue('line1\nline2\r\nline3\rx'), 'line1\\nline2\\nline3\\rx');
  });

  it('formats a whole record with hostile values', () => {
    const line = formatCef({
      vendor: 'edge|siem',
      product: 'cen\\tral',
      productVersion: '1.0',
      signatureId: 'rule|1\n',
      name: 'Write to PLC \\| "x"',
      severity: 8,
      extension: [
        ['msg', 'a=b\\c|d\ne'],
        ['cs1Label', 'techniques'],
        ['cs1', 'T0836,T0855'],
        ['bad key!', 'v'],
        ['absent', undefined],
        ['cnt', 3],
      ],
    });
    assert.equal(
      line,
      'CEF:0|edge\\|siem|cen\\\\tral|1.0|rule\\|1 |Write to PLC \\\\\\| "x"|8|' +
        'msg=a\\=b\\\\c|d\\ne cs1Label=techniques cs1=T0836,T0855 badkey=v cnt=3',
    );
  });

  it('maps syslog severity onto CEF 0-10, most severe highest', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(cefSeverity), [10, 10, 9, 8, 6, 4, 2, 0]);
    assert.equal(cefSeverity(-3), 10);
    assert.equal(cefSeverity(99), 0);
  });

  it('never lets input add a header field or a line (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 6, maxLength: 6 }), (parts) => {
        const line = formatCef({
          vendor: parts[0]!,
          product: parts[1]!,
          productVersion: parts[2]!,
          signatureId: parts[3]!,
          name: parts[4]!,
          severity: 5,
          extension: [['msg', parts[5]!]],
        });
        assert.ok(!/[\r\n]/.test(line));
        // Unescaped pipes: a pipe preceded by an even number of backslashes.
        const header = line.slice(0, line.lastIndexOf('|msg='));
        const pipes = header.match(/(?<!\\)(?:\\\\)*\|/g) ?? [];
        assert.equal(pipes.length, 6, line);
        // Unescaped '=' in the extension value: none.
        const value = line.slice(line.lastIndexOf('|msg=') + 5);
        assert.equal((value.match(/(?<!\\)(?:\\\\)*=/g) ?? []).length, 0, value);
      }),
    );
  });
});
