//! Python's `base64.b64decode(s).decode('utf-8')`.

/// Why Python's `base64.b64decode(s).decode('utf-8')` raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// The text is not base64, as `binascii` judges it; Python's message.
    Invalid(String),
    /// The decoded bytes are not UTF-8; the length of their valid UTF-8 prefix.
    NotUtf8 {
        /// The length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
}

/// The value of a character of the base64 alphabet; `None` outside it.
fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes like CPython's non-strict `binascii.a2b_base64`: characters outside
/// the alphabet are skipped, a complete padding ends the input, leftover bits
/// are dropped; then the bytes must be UTF-8.
pub(crate) fn decode_utf8(text: &str) -> Result<String, Base64Error> {
    let invalid = Base64Error::Invalid;
    if !text.is_ascii() {
        return Err(invalid(
            "string argument should contain only ASCII characters".into(),
        ));
    }
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    let mut quad = 0u8;
    let mut pads = 0u8;
    let mut left = 0u8;
    let mut complete = false;
    for byte in text.bytes() {
        if byte == b'=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    complete = true;
                    break;
                }
            }
            continue;
        }
        let Some(bits) = sextet(byte) else { continue };
        pads = 0;
        match quad {
            0 => {
                left = bits;
                quad = 1;
            }
            1 => {
                bytes.push((left << 2) | (bits >> 4));
                left = bits & 0x0f;
                quad = 2;
            }
            2 => {
                bytes.push((left << 4) | (bits >> 2));
                left = bits & 0x03;
                quad = 3;
            }
            _ => {
                bytes.push((left << 6) | bits);
                quad = 0;
            }
        }
    }
    if !complete && quad == 1 {
        return Err(invalid(format!(
            "Invalid base64-encoded string: number of data characters ({}) cannot be 1 \
             more than a multiple of 4",
            bytes.len() / 3 * 4 + 1
        )));
    }
    if !complete && quad != 0 {
        return Err(invalid("Incorrect padding".into()));
    }
    String::from_utf8(bytes).map_err(|e| Base64Error::NotUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_like_python() {
        assert_eq!(decode_utf8("aGVsbG8gd29ybGQ="), Ok("hello world".into()));
        assert_eq!(decode_utf8("w6k="), Ok("é".into()));
        // Python skips characters outside the alphabet and stops at the padding.
        assert_eq!(decode_utf8("aGVs\nbG8=ignored"), Ok("hello".into()));
        assert_eq!(decode_utf8(""), Ok(String::new()));
    }

    #[test]
    fn invalid_base64_and_non_utf8() {
        assert_eq!(
            decode_utf8("aGVsbG8"),
            Err(Base64Error::Invalid("Incorrect padding".into()))
        );
        assert_eq!(
            decode_utf8("aGVsb"),
            Err(Base64Error::Invalid(
                "Invalid base64-encoded string: number of data characters (5) cannot \
                 be 1 more than a multiple of 4"
                    .into()
            ))
        );
        assert_eq!(
            decode_utf8("é"),
            Err(Base64Error::Invalid(
                "string argument should contain only ASCII characters".into()
            ))
        );
        // 0xff 0xfe: not UTF-8.
        assert_eq!(
            decode_utf8("//4="),
            Err(Base64Error::NotUtf8 { valid_up_to: 0 })
        );
    }
}
