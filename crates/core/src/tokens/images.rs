//! Image tokens as `token_counter` prices them (`calculate_img_tokens` in litellm 1.110.2).
//!
//! An inline `data:image/...;base64,` image in `auto` detail is priced from its pixel size read
//! from the header: 85 base tokens plus 170 per 512-pixel tile after LiteLLM's high-res resize.
//! `low` detail is 85, `use_default_image_token_count` is 250, and anything LiteLLM cannot read in
//! `auto` mode is 85 too. LiteLLM never fetches in `auto` mode; in `high` mode it downloads image
//! URLs, which the Rust side leaves to Python.

use super::error::Refusal;

const BASE_TOKENS: i64 = 85;
const TILE_TOKENS: i64 = 170;
/// `DEFAULT_IMAGE_TOKEN_COUNT`.
const DEFAULT_IMAGE_TOKENS: i64 = 250;
const DEFAULT_WIDTH: i64 = 300;
const DEFAULT_HEIGHT: i64 = 300;
const MAX_SHORT_SIDE: i64 = 768;
const MAX_LONG_SIDE: i64 = 2000;
const TILE_SIDE: i64 = 512;
/// `MAX_IMAGE_URL_DOWNLOAD_SIZE_MB` (50) in bytes.
const MAX_IMAGE_BYTES: usize = 50 * 1024 * 1024;
const MAX_ENCODED_CHARS: usize = 4 * MAX_IMAGE_BYTES.div_ceil(3);

/// The detail level of an `image_url` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    Low,
    High,
    Auto,
}

/// `calculate_img_tokens(data, mode, use_default_image_token_count)` for a string `data`.
pub(crate) fn image_tokens(data: &str, detail: Detail, use_default: bool) -> Result<i64, Refusal> {
    if use_default {
        return Ok(DEFAULT_IMAGE_TOKENS);
    }
    let dimensions = match detail {
        Detail::Low => return Ok(BASE_TOKENS),
        Detail::Auto => auto_dimensions(data),
        Detail::High => Some(high_detail_dimensions(data)?),
    };
    let Some((width, height)) = dimensions else {
        return Ok(BASE_TOKENS);
    };
    let (width, height) = resize_high_res(width, height);
    let tiles = ((width + TILE_SIDE - 1).div_euclid(TILE_SIDE))
        * ((height + TILE_SIDE - 1).div_euclid(TILE_SIDE));
    Ok(BASE_TOKENS + TILE_TOKENS * tiles)
}

/// `calculate_img_tokens` for a non-string `data` (a number, say): LiteLLM only gets as far as
/// the default and `low` answers before calling a string method on it.
pub(crate) fn image_tokens_of_non_string(
    detail: Detail,
    use_default: bool,
) -> Result<i64, Refusal> {
    match (use_default, detail) {
        (true, _) => Ok(DEFAULT_IMAGE_TOKENS),
        (false, Detail::Low) => Ok(BASE_TOKENS),
        _ => Err(Refusal::Raises("image url is not a string".to_owned())),
    }
}

fn auto_dimensions(data: &str) -> Option<(i64, i64)> {
    if !data.starts_with("data:image/") {
        return None;
    }
    // Lengths are Python string lengths, in characters.
    if data.len() > MAX_ENCODED_CHARS + 128 && data.chars().count() > MAX_ENCODED_CHARS + 128 {
        return None;
    }
    let (header, encoded) = data.split_once(',')?;
    if header.chars().count() > 128
        || !header.ends_with(";base64")
        || encoded.chars().count() > MAX_ENCODED_CHARS
    {
        return None;
    }
    let bytes = decode_base64(encoded, true)?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return None;
    }
    if !matches!(image_type(&bytes), Some("png" | "gif" | "jpeg" | "webp")) {
        return None;
    }
    let (width, height) = dimensions_from_bytes(&bytes).ok()?;
    (width > 0 && height > 0).then_some((width, height))
}

fn high_detail_dimensions(data: &str) -> Result<(i64, i64), Refusal> {
    if data.starts_with("http://") || data.starts_with("https://") {
        // Limitation: LiteLLM downloads the image to read its size; Python does that.
        return Err(Refusal::Unsupported(
            "high-detail image given by URL".to_owned(),
        ));
    }
    let Some((_, encoded)) = data.split_once(',') else {
        return Err(Refusal::Raises(
            "image data has no ',' before its base64 payload".to_owned(),
        ));
    };
    if !encoded.is_ascii() {
        return Err(Refusal::Raises("base64 payload is not ASCII".to_owned()));
    }
    let bytes = decode_base64(encoded, false)
        .ok_or_else(|| Refusal::Raises("invalid base64 image payload".to_owned()))?;
    dimensions_from_bytes(&bytes).map_err(|_| Refusal::Raises("truncated image header".to_owned()))
}

fn resize_high_res(width: i64, height: i64) -> (i64, i64) {
    if width <= MAX_SHORT_SIDE && height <= MAX_SHORT_SIDE {
        return (width, height);
    }
    // Float arithmetic and truncation exactly as LiteLLM's `int(side * aspect_ratio)`. LiteLLM
    // writes the portrait and landscape cases out separately; they are this one computation on
    // (short side, long side), swapped back for landscape.
    let aspect_ratio = width.max(height) as f64 / width.min(height) as f64;
    let mut short = MAX_SHORT_SIDE;
    let mut long = (short as f64 * aspect_ratio) as i64;
    if long > MAX_LONG_SIDE {
        long = MAX_LONG_SIDE;
        short = (long as f64 / aspect_ratio) as i64;
    }
    if width <= height {
        (short, long)
    } else {
        (long, short)
    }
}

/// `get_image_type`: the format named by the first bytes.
fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if data.starts_with(b"GIF8") && data.get(5) == Some(&b'a') {
        Some("gif")
    } else if data.starts_with(b"\xff\xd8\xff") {
        Some("jpeg")
    } else if data.get(4..8) == Some(b"ftyp") {
        Some("heic")
    } else if data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        Some("webp")
    } else {
        None
    }
}

/// The header could not be read where LiteLLM's `struct.unpack` or `ord` would fail.
#[derive(Debug)]
struct Truncated;

fn slice(data: &[u8], start: usize, end: usize) -> &[u8] {
    // Python slices clamp to the data.
    let end = end.min(data.len());
    data.get(start.min(end)..end).unwrap_or(&[])
}

fn u16_be(bytes: &[u8]) -> Result<i64, Truncated> {
    match bytes {
        [a, b] => Ok(i64::from(u16::from_be_bytes([*a, *b]))),
        _ => Err(Truncated),
    }
}

fn u16_le(bytes: &[u8]) -> Result<i64, Truncated> {
    match bytes {
        [a, b] => Ok(i64::from(u16::from_le_bytes([*a, *b]))),
        _ => Err(Truncated),
    }
}

fn u32_le(bytes: &[u8]) -> Result<i64, Truncated> {
    match bytes {
        [a, b, c, d] => Ok(i64::from(u32::from_le_bytes([*a, *b, *c, *d]))),
        _ => Err(Truncated),
    }
}

/// `_image_dimensions_from_bytes`: the pixel size from the header, 300x300 for formats it does
/// not parse.
fn dimensions_from_bytes(data: &[u8]) -> Result<(i64, i64), Truncated> {
    match image_type(data) {
        Some("png") => {
            let size = slice(data, 16, 24);
            if size.len() != 8 {
                return Err(Truncated);
            }
            Ok((u32_be(&size[..4]), u32_be(&size[4..])))
        }
        Some("gif") => {
            let size = slice(data, 6, 10);
            if size.len() != 4 {
                return Err(Truncated);
            }
            Ok((u16_le(&size[..2])?, u16_le(&size[2..])?))
        }
        Some("jpeg") => jpeg_dimensions(data),
        Some("webp") => match slice(data, 12, 16) {
            b"VP8X" => {
                let width = [slice(data, 24, 27), b"\x00"].concat();
                let height = [slice(data, 27, 30), b"\x00"].concat();
                Ok((u32_le(&width)? + 1, u32_le(&height)? + 1))
            }
            b"VP8 " => Ok((
                u16_le(slice(data, 26, 28))? & 0x3FFF,
                u16_le(slice(data, 28, 30))? & 0x3FFF,
            )),
            b"VP8L" => {
                let bits = u32_le(slice(data, 21, 25))?;
                Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            _ => Ok((DEFAULT_WIDTH, DEFAULT_HEIGHT)),
        },
        _ => Ok((DEFAULT_WIDTH, DEFAULT_HEIGHT)),
    }
}

fn u32_be(bytes: &[u8]) -> i64 {
    bytes
        .iter()
        .fold(0i64, |acc, byte| (acc << 8) | i64::from(*byte))
}

// LiteLLM walks JPEG segments with a BytesIO: relative seeks clamp at 0, reads past the end
// return nothing (then `ord(b"")` or `struct.unpack` fails). Each turn reads at least three bytes
// and seeks back at most two, so the walk always ends.
fn jpeg_dimensions(data: &[u8]) -> Result<(i64, i64), Truncated> {
    let mut position: i64 = 0;
    let read = |position: &mut i64, count: usize| -> &[u8] {
        let start = usize::try_from(*position).unwrap_or(0);
        let bytes = slice(data, start, start.saturating_add(count));
        *position += bytes.len() as i64;
        bytes
    };
    let mut size: i64 = 2;
    let mut frame_type: u8 = 0;
    while !(0xC0..=0xCF).contains(&frame_type) || [0xC4, 0xC8, 0xCC].contains(&frame_type) {
        position = (position + size).max(0);
        let mut byte = *read(&mut position, 1).first().ok_or(Truncated)?;
        while byte == 0xFF {
            byte = *read(&mut position, 1).first().ok_or(Truncated)?;
        }
        frame_type = byte;
        size = u16_be(read(&mut position, 2))? - 2;
    }
    position += 1;
    let size = read(&mut position, 4);
    if size.len() != 4 {
        return Err(Truncated);
    }
    let height = u16_be(&size[..2])?;
    let width = u16_be(&size[2..])?;
    Ok((width, height))
}

/// CPython's `binascii.a2b_base64` in its default (non-strict) mode, with `base64.b64decode`'s
/// `validate=True` pre-check when `validate` is set. `None` where Python raises.
pub(crate) fn decode_base64(encoded: &str, validate: bool) -> Option<Vec<u8>> {
    let bytes = encoded.as_bytes();
    if validate {
        // `re.fullmatch(b"[A-Za-z0-9+/]*={0,2}", s)`.
        let data_end = bytes
            .iter()
            .position(|b| !is_base64_char(*b))
            .unwrap_or(bytes.len());
        let padding = &bytes[data_end..];
        if padding.len() > 2 || padding.iter().any(|b| *b != b'=') {
            return None;
        }
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 3);
    let mut quad_position = 0u8;
    let mut left: u32 = 0;
    let mut pads = 0u8;
    for &byte in bytes {
        if byte == b'=' {
            if quad_position >= 2 {
                pads += 1;
                if quad_position + pads >= 4 {
                    // A complete pad sequence ends the input; the rest is ignored.
                    return Some(out);
                }
            }
            continue;
        }
        let Some(value) = base64_value(byte) else {
            continue;
        };
        pads = 0;
        match quad_position {
            0 => {
                quad_position = 1;
                left = value;
            }
            1 => {
                quad_position = 2;
                out.push(((left << 2) | (value >> 4)) as u8);
                left = value & 0x0f;
            }
            2 => {
                quad_position = 3;
                out.push(((left << 4) | (value >> 2)) as u8);
                left = value & 0x03;
            }
            _ => {
                quad_position = 0;
                out.push(((left << 6) | value) as u8);
                left = 0;
            }
        }
    }
    (quad_position == 0).then_some(out)
}

fn is_base64_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/'
}

fn base64_value(byte: u8) -> Option<u32> {
    match byte {
        b'A'..=b'Z' => Some(u32::from(byte - b'A')),
        b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> String {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
        use base64::Engine as _;
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    #[test]
    fn prices_inline_png_by_tiles() {
        assert_eq!(
            image_tokens(&png(100, 100), Detail::Auto, false),
            Ok(85 + 170)
        );
        // 1024x2048: resized to 768x1536, 2x3 tiles.
        assert_eq!(
            image_tokens(&png(1024, 2048), Detail::Auto, false),
            Ok(85 + 170 * 6)
        );
        assert_eq!(image_tokens(&png(1024, 2048), Detail::Low, false), Ok(85));
        assert_eq!(image_tokens("https://x/y.png", Detail::Auto, false), Ok(85));
        assert_eq!(image_tokens("https://x/y.png", Detail::Auto, true), Ok(250));
        assert!(image_tokens("https://x/y.png", Detail::High, false).is_err());
    }

    #[test]
    fn base64_follows_cpython_padding_rules() {
        assert_eq!(decode_base64("QUJD", true), Some(b"ABC".to_vec()));
        assert_eq!(decode_base64("QUI=", true), Some(b"AB".to_vec()));
        assert_eq!(decode_base64("QUI", true), None);
        assert_eq!(decode_base64("QQ==", true), Some(b"A".to_vec()));
        assert_eq!(decode_base64("Q", true), None);
        assert_eq!(decode_base64("QU JD", true), None);
        assert_eq!(decode_base64("QU JD", false), Some(b"ABC".to_vec()));
    }
}
