//! Sticky bucketing of keys, compatible with Unleash's gradual rollout strategy.
//!
//! A key lands in bucket `murmur3_32("<group_id>:<key>", seed 0) % 100 + 1`, a number from 1 to
//! 100, and is in a rollout of `p` percent when its bucket is at most `p`. The bucket depends on
//! the group and key only, so raising a percentage keeps every key that was already in, and the
//! same key gets the same answer in every process that shares the group id.

/// The bucket, from 1 to 100, of `key` within `group`.
pub fn bucket(group: &str, key: &str) -> u32 {
    // Joining into a stack buffer keeps the decision free of allocation and lets the hash run
    // over whole 4-byte blocks; longer keys are joined on the heap.
    // 64 bytes hold a group and a UUID key; zeroing a larger buffer cost more than hashing.
    const INLINE: usize = 64;
    let len = group.len() + 1 + key.len();
    if len <= INLINE {
        let mut joined = [0u8; INLINE];
        joined[..group.len()].copy_from_slice(group.as_bytes());
        joined[group.len()] = b':';
        joined[group.len() + 1..len].copy_from_slice(key.as_bytes());
        murmur3_32(&joined[..len], 0) % 100 + 1
    } else {
        let joined = format!("{group}:{key}");
        murmur3_32(joined.as_bytes(), 0) % 100 + 1
    }
}

/// MurmurHash3, x86 32-bit variant.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;

    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        let k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h = (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &byte) in tail.iter().enumerate() {
            k |= u32::from(byte) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }

    // The length is mixed in modulo 2^32, as the reference implementation does.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
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
        fn buckets_agree_across_the_inline_limit(group in "[a-z]{1,8}", key in ".{40,400}") {
            let joined = format!("{group}:{key}");
            prop_assert_eq!(bucket(&group, &key), murmur3_32(joined.as_bytes(), 0) % 100 + 1);
        }
    }
}
