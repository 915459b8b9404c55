//! The state diff as an EIP-4844 blob, and the KZG check that ties the blob to the commitment
//! the L1 contract sees through `blobhash`.

use alloc::{boxed::Box, vec};
use alloy_primitives::B256;
use bp_input::Bytes48;

/// Bytes in a blob: 4096 field elements of 32 bytes.
pub const BLOB_BYTES: usize = 131_072;
/// Data bytes a blob carries: 31 per field element, behind a zero byte that keeps each
/// element below the BLS12-381 scalar modulus.
pub const BLOB_CAPACITY: usize = 4096 * 31;

/// A blob, boxed (128 KiB).
pub type Blob = Box<[u8; BLOB_BYTES]>;

/// Packs `data` into a blob (31 bytes per field element behind a zero byte, zero-padded);
/// `None` if it does not fit.
pub fn pack_blob(data: &[u8]) -> Option<Blob> {
    if data.len() > BLOB_CAPACITY {
        return None;
    }
    let mut blob: Blob = vec![0u8; BLOB_BYTES].into_boxed_slice().try_into().expect("blob size");
    for (element, chunk) in blob.chunks_exact_mut(32).zip(data.chunks(31)) {
        element[1..1 + chunk.len()].copy_from_slice(chunk);
    }
    Some(blob)
}

/// The data bytes of a blob (every element's last 31 bytes), padding included; `None` if a
/// field element does not start with a zero byte.
pub fn unpack_blob(blob: &[u8; BLOB_BYTES]) -> Option<alloc::vec::Vec<u8>> {
    let mut data = alloc::vec::Vec::with_capacity(BLOB_CAPACITY);
    for element in blob.chunks_exact(32) {
        if element[0] != 0 {
            return None;
        }
        data.extend_from_slice(&element[1..]);
    }
    Some(data)
}

/// EIP-4844 versioned hash of a commitment: `0x01 ‖ sha256(commitment)[1..32]` (SHA-256 of
/// revm's crypto provider: the accelerator in a zkVM guest).
pub fn versioned_hash(commitment: &Bytes48) -> B256 {
    let mut hash = revm::precompile::crypto().sha256(commitment.as_slice());
    hash[0] = 0x01;
    B256::from(hash)
}

/// A blob or a point that is not made of field elements, or a commitment the KZG library
/// refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KzgError {
    /// A blob element or an evaluation point not below the BLS12-381 scalar field order, or a
    /// KZG library error.
    #[error("invalid KZG input: {0}")]
    Invalid(alloc::string::String),
}

/// The commitment of a blob and its blob proof (`compute_blob_kzg_proof`, what an EIP-4844
/// transaction's sidecar carries), as a block builder (never the program) computes them.
#[cfg(feature = "native-crypto")]
pub fn commit_blob(blob: &[u8; BLOB_BYTES]) -> Result<(Bytes48, Bytes48), KzgError> {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let blob = c_kzg::Blob::new(*blob);
    let commitment = settings.blob_to_kzg_commitment(&blob).map_err(kzg_error)?.to_bytes();
    let proof = settings.compute_blob_kzg_proof(&blob, &commitment).map_err(kzg_error)?.to_bytes();
    Ok((Bytes48::from(*commitment), Bytes48::from(*proof)))
}

/// The KZG opening of a blob at `z`: the proof the point-evaluation precompile takes and the
/// value `p(z)` (`compute_kzg_proof`), as the L1 proof sender computes them.
#[cfg(feature = "native-crypto")]
pub fn open_blob(blob: &[u8; BLOB_BYTES], z: &B256) -> Result<(Bytes48, B256), KzgError> {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let (proof, y) =
        settings.compute_kzg_proof(&c_kzg::Blob::new(*blob), &c_kzg::Bytes32::new(z.0)).map_err(kzg_error)?;
    Ok((Bytes48::from(*proof.to_bytes()), B256::from(*y)))
}

/// Whether `commitment` commits to `blob`, by its blob proof (`verify_blob_kzg_proof`: an
/// evaluation and two pairings, milliseconds where [`commit_blob`] is an MSM).
#[cfg(feature = "native-crypto")]
pub fn blob_commits(blob: &[u8; BLOB_BYTES], commitment: &Bytes48, proof: &Bytes48) -> Result<bool, KzgError> {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let (commitment, proof) = (c_kzg::Bytes48::new(commitment.0), c_kzg::Bytes48::new(proof.0));
    settings.verify_blob_kzg_proof(&c_kzg::Blob::new(*blob), &commitment, &proof).map_err(kzg_error)
}

/// Whether `proof` opens `commitment` to `y` at `z` (`verify_kzg_proof`, what the
/// point-evaluation precompile checks).
#[cfg(feature = "native-crypto")]
pub fn opens_to(commitment: &Bytes48, z: &B256, y: &B256, proof: &Bytes48) -> Result<bool, KzgError> {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let (z, y) = (c_kzg::Bytes32::new(z.0), c_kzg::Bytes32::new(y.0));
    settings
        .verify_kzg_proof(&c_kzg::Bytes48::new(commitment.0), &z, &y, &c_kzg::Bytes48::new(proof.0))
        .map_err(kzg_error)
}

#[cfg(feature = "native-crypto")]
fn kzg_error(e: c_kzg::Error) -> KzgError {
    KzgError::Invalid(alloc::format!("{e:?}"))
}

#[cfg(all(test, feature = "native-crypto"))]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trip_and_capacity() {
        let data: alloc::vec::Vec<u8> = (0..100u8).collect();
        let blob = pack_blob(&data).expect("fits");
        assert_eq!(blob[0], 0);
        assert_eq!(&blob[1..32], &data[..31]);
        assert_eq!(blob[32], 0);
        assert_eq!(&blob[33..64], &data[31..62]);
        assert!(blob[101 + 4..].iter().all(|b| *b == 0));
        let unpacked = unpack_blob(&blob).expect("canonical");
        assert_eq!(&unpacked[..100], data.as_slice());
        assert!(unpacked[100..].iter().all(|b| *b == 0));
        assert!(pack_blob(&vec![1u8; BLOB_CAPACITY]).is_some());
        assert!(pack_blob(&vec![1u8; BLOB_CAPACITY + 1]).is_none());
    }

    #[test]
    fn commitments_differ_and_open_at_any_point() {
        let blob = pack_blob(b"a state diff").expect("fits");
        let (commitment, _) = commit_blob(&blob).expect("commits");
        let (other, _) = commit_blob(&pack_blob(b"another state diff").expect("fits")).expect("commits");
        assert_ne!(commitment, other);
        assert_eq!(versioned_hash(&commitment)[0], 1);
        let (_, y) = open_blob(&blob, &B256::with_last_byte(9)).expect("opens");
        assert_ne!(y, B256::ZERO);
        assert!(open_blob(&blob, &B256::repeat_byte(0xff)).is_err(), "z not a field element");
    }

    #[test]
    fn commitments_and_openings_are_checked_not_taken() {
        let blob = pack_blob(b"a state diff").expect("fits");
        let other = pack_blob(b"another state diff").expect("fits");
        let (commitment, proof) = commit_blob(&blob).expect("commits");
        assert!(blob_commits(&blob, &commitment, &proof).expect("checks"));
        assert!(!blob_commits(&other, &commitment, &proof).expect("checks"), "another blob");
        let (other_commitment, other_proof) = commit_blob(&other).expect("commits");
        assert!(!blob_commits(&blob, &other_commitment, &other_proof).expect("checks"), "another commitment");
        let z = B256::with_last_byte(9);
        let (opening, y) = open_blob(&blob, &z).expect("opens");
        assert!(opens_to(&commitment, &z, &y, &opening).expect("checks"));
        assert!(!opens_to(&commitment, &z, &B256::with_last_byte(1), &opening).expect("checks"), "another value");
        assert!(!opens_to(&other_commitment, &z, &y, &opening).expect("checks"), "another commitment");
    }

    /// The empty blob's commitment is the point at infinity (0xc0 ‖ zeros); its versioned
    /// hash, 0x010657f3…, is the one known from mainnet blob transactions carrying empty blobs.
    #[test]
    fn empty_blob_vector() {
        let blob = pack_blob(&[]).expect("fits");
        let (commitment, _) = commit_blob(&blob).expect("commits");
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        assert_eq!(commitment, Bytes48::from(infinity));
        assert_eq!(
            versioned_hash(&commitment),
            alloy_primitives::b256!("0x010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014")
        );
    }
}
