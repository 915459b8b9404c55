use alloc::vec::Vec;

/// Splits bytes into nibbles, high nibble first.
pub fn bytes_to_nibbles(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(b >> 4);
        out.push(b & 0x0f);
    }
    out
}

/// Hex-prefix (compact) encoding of a nibble path, flagging leaves (Yellow Paper, appendix C).
pub fn hex_prefix_encode(nibbles: &[u8], is_leaf: bool) -> Vec<u8> {
    let flag = if is_leaf { 2u8 } else { 0 };
    let odd = nibbles.len() % 2 == 1;
    let mut out = Vec::with_capacity(nibbles.len() / 2 + 1);
    let rest = if odd {
        out.push(((flag | 1) << 4) | nibbles[0]);
        &nibbles[1..]
    } else {
        out.push(flag << 4);
        nibbles
    };
    for pair in rest.chunks_exact(2) {
        out.push((pair[0] << 4) | pair[1]);
    }
    out
}

/// Decodes a hex-prefix path into `(nibbles, is_leaf)`; `None` for an invalid flag nibble or
/// non-zero padding.
pub fn hex_prefix_decode(encoded: &[u8]) -> Option<(Vec<u8>, bool)> {
    let first = *encoded.first()?;
    let flag = first >> 4;
    if flag > 3 {
        return None;
    }
    let is_leaf = flag & 2 != 0;
    let odd = flag & 1 != 0;
    let mut nibbles = Vec::with_capacity(encoded.len() * 2);
    if odd {
        nibbles.push(first & 0x0f);
    } else if first & 0x0f != 0 {
        return None;
    }
    for b in &encoded[1..] {
        nibbles.push(b >> 4);
        nibbles.push(b & 0x0f);
    }
    Some((nibbles, is_leaf))
}

/// Length of the common prefix of two nibble paths.
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Nibble path as hex text, for error messages.
pub(crate) fn nibbles_to_hex(nibbles: &[u8]) -> alloc::string::String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    nibbles.iter().map(|n| HEX[(*n & 0x0f) as usize] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefix_round_trip() {
        for (nibbles, leaf, expected) in [
            (&[1u8, 2, 3, 4, 5][..], false, &[0x11u8, 0x23, 0x45][..]),
            (&[0, 1, 2, 3, 4, 5], false, &[0x00, 0x01, 0x23, 0x45]),
            (&[0, 15, 1, 12, 11, 8], true, &[0x20, 0x0f, 0x1c, 0xb8]),
            (&[15, 1, 12, 11, 8], true, &[0x3f, 0x1c, 0xb8]),
            (&[], true, &[0x20]),
        ] {
            let enc = hex_prefix_encode(nibbles, leaf);
            assert_eq!(enc, expected);
            assert_eq!(hex_prefix_decode(&enc), Some((nibbles.to_vec(), leaf)));
        }
        assert_eq!(hex_prefix_decode(&[0x41]), None);
        assert_eq!(hex_prefix_decode(&[0x01]), None);
        assert_eq!(hex_prefix_decode(&[]), None);
    }
}
