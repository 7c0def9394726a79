// SPDX-License-Identifier: GPL-2.0

//! Access-log escaping, as nginx escapes a variable in its log by default: `"`, `\` and every
//! byte below 0x20 or above 0x7e become `\xHH` (upper-case hex), the rest stays as it is; and
//! `'` too, so that the trace event can quote a value with `'` (a `"` inside a trace event's
//! format breaks libtraceevent) and stay unambiguous. The access-log tool turns `\x27` back
//! into `'`, giving nginx's exact form.

/// Upper-case hex digits, as nginx writes them.
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` is written as `\xHH`.
pub(crate) fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\'' || b == b'\\' || !(0x20..=0x7e).contains(&b)
}

/// Writes `src` escaped into `dst`, as much as fits without cutting an escape in two; the
/// number of bytes written.
pub(crate) fn escape(src: &[u8], dst: &mut [u8]) -> usize {
    let mut n = 0;
    for &b in src {
        if needs_escape(b) {
            let Some(out) = dst.get_mut(n..n + 4) else {
                break;
            };
            out.copy_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
            n += 4;
        } else {
            let Some(out) = dst.get_mut(n) else {
                break;
            };
            *out = b;
            n += 1;
        }
    }
    n
}
