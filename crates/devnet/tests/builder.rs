//! The builder's batches, run through the program, give the builder's own outputs; a restart
//! replays the stored blocks to the same state.

use bp_devnet::Builder;

#[test]
fn batches_prove_to_the_builders_outputs_and_replay_after_restart() {
    let dir = std::env::temp_dir().join(format!("bp-devnet-builder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("l2.sqlite");
    let mut builder = Builder::open(&path).expect("opens");
    for _ in 0..3 {
        let sealed = builder.build_batch(4).expect("builds").clone();
        let output = bp_program::execute_input(&sealed.input).expect("the program accepts the batch");
        assert_eq!(output, sealed.expected, "batch {}", sealed.index);
        assert!(sealed.deposits >= 4 && sealed.withdrawals == 4, "{sealed:?}");
        let l2 = output.l2.expect("an L2 batch commits its L2 words");
        assert_ne!(l2.withdrawals_root, alloy_primitives::B256::ZERO);
        assert_ne!(l2.deposits_hash, alloy_primitives::B256::ZERO);
        assert_eq!(l2.state_diff_hash[0], 1);
        assert_eq!(output.chain_config_hash, bp_devnet::chain_config().hash());
        // Another blob commitment gives another versioned hash, evaluation point and value: the
        // L1 contract, which sees the posted blob's hash, refuses such a proof.
        let mut tampered = sealed.input.clone();
        let l2 = tampered.l2.as_mut().expect("an L2 input");
        l2.blob_commitment = bp_program::l2::commit_blob(&bp_program::l2::pack_blob(b"other").unwrap()).unwrap().0;
        let other = bp_program::execute_input(&tampered).expect("the program evaluates any commitment");
        let (ours, theirs) = (output.l2.unwrap(), other.l2.unwrap());
        assert_ne!(ours.state_diff_hash, theirs.state_diff_hash);
        assert_ne!(ours.blob_z, theirs.blob_z);
        // The program's evaluation of the blob it rebuilt equals c-kzg's of the blob the builder posts.
        let (_, y) = bp_program::l2::open_blob(&sealed.blob.blob, &ours.blob_z).unwrap();
        assert_eq!(y, ours.blob_y);
        // The binary form carries everything.
        let decoded = bp_input::ProgramInput::from_binary(&sealed.input.to_binary()).expect("decodes");
        assert_eq!(decoded, sealed.input);
    }
    let head = builder.head().clone();
    let sealed: Vec<_> = builder.sealed().iter().map(|s| s.expected).collect();
    drop(builder);
    let reopened = Builder::open(&path).expect("reopens");
    assert_eq!(reopened.head(), &head);
    let replayed: Vec<_> = reopened.sealed().iter().map(|s| s.expected).collect();
    assert_eq!(replayed.len(), 3);
    // Every word repeats: KZG commitments are deterministic, so the state-diff hashes do too.
    assert_eq!(replayed, sealed);
    let blobs: Vec<_> = reopened.sealed().iter().map(|s| s.blob.clone()).collect();
    drop(reopened);
    // The replay takes the kept KZG commitments only where they verify: swapped or garbled
    // rows are recomputed, to the same words.
    let store = rusqlite::Connection::open(&path).expect("the store");
    store
        .execute(
            "UPDATE blob_kzg SET commitment = (SELECT commitment FROM blob_kzg WHERE batch = 1) WHERE batch = 0",
            [],
        )
        .unwrap();
    store.execute("UPDATE blob_kzg SET opening_proof = x'00' WHERE batch = 2", []).unwrap();
    drop(store);
    let reopened = Builder::open(&path).expect("reopens");
    assert_eq!(reopened.sealed().iter().map(|s| s.expected).collect::<Vec<_>>(), sealed);
    assert_eq!(reopened.sealed().iter().map(|s| s.blob.clone()).collect::<Vec<_>>(), blobs);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Deposits to as many new accounts as `per_block` says, each block: a state diff that grows by
/// tens of kilobytes a block. Deterministic in (block, first nonce), as a feed must be.
struct Flood {
    per_block: u64,
}

impl bp_devnet::DepositFeed for Flood {
    fn deposits(&mut self, number: u64, next_nonce: u64) -> Result<Vec<bp_input::PrivilegedTx>, String> {
        Ok((next_nonce..next_nonce + self.per_block)
            .map(|nonce| {
                let account = alloy_primitives::Address::left_padding_from(&(number << 32 | nonce).to_be_bytes());
                bp_input::PrivilegedTx {
                    chain_id: bp_devnet::DEVNET_CHAIN_ID,
                    nonce,
                    gas_limit: 21_000,
                    to: account,
                    value: alloy_primitives::U256::from(nonce + 1),
                    from: account,
                    ..Default::default()
                }
            })
            .collect())
    }
}

/// A batch closes before the block that would overflow its blob; that block opens the next
/// batch, and the program accepts both. One block whose diff alone overflows is refused.
#[test]
fn a_batch_closes_before_its_state_diff_would_overflow_one_blob() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = Builder::open(&dir.path().join("l2.sqlite")).expect("opens");
    let receiver = bp_devnet::WITHDRAWAL_RECEIVER;
    let mut flood = Flood { per_block: 500 };
    let first = builder.build_batch_with(3, &mut flood, receiver).expect("builds").clone();
    assert!(
        first.last_block < first.first_block + 2,
        "closed early: blocks {}..={}",
        first.first_block,
        first.last_block
    );
    assert!(first.state_diff_bytes <= bp_program::l2::BLOB_CAPACITY, "{}", first.state_diff_bytes);
    println!("blocks {}..={}: {} bytes of state diff", first.first_block, first.last_block, first.state_diff_bytes);
    let second = builder.build_batch_with(1, &mut flood, receiver).expect("builds").clone();
    assert_eq!(second.first_block, first.last_block + 1, "the block left out opens the next batch");
    for sealed in [&first, &second] {
        assert_eq!(bp_program::execute_input(&sealed.input).expect("proves"), sealed.expected);
    }
    let mut deluge = Flood { per_block: 1_400 };
    match builder.build_batch_with(1, &mut deluge, receiver) {
        Err(bp_devnet::BuilderError::StateDiffTooLarge { size, capacity, .. }) => assert!(size > capacity),
        other => panic!("a block whose diff overflows a blob alone: {:?}", other.map(|s| s.index)),
    }
}
