//! The zkEVM suite's stateless inputs, for the tests of this crate.

/// Every `statelessInputBytes` of the zkEVM suite, in the archive's order.
pub(crate) fn fixture_inputs() -> Vec<Vec<u8>> {
    let archive = bp_testkit::fixtures().join("eest-zkevm-v0.3.3-amsterdam-witness/blockchain_tests_zkevm.tar.zst");
    let file = std::fs::File::open(&archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    let mut tar = tar::Archive::new(zstd::Decoder::new(file).expect("zstd"));
    let mut inputs = Vec::new();
    for entry in tar.entries().expect("a tar archive") {
        let mut entry = entry.expect("an entry");
        if !entry.path().is_ok_and(|p| p.extension().is_some_and(|e| e == "json")) {
            continue;
        }
        let json: serde_json::Value = serde_json::from_reader(&mut entry).expect("JSON");
        for fixture in json.as_object().into_iter().flat_map(|tests| tests.values()) {
            for block in fixture["blocks"].as_array().into_iter().flatten() {
                if let Some(hex) = block.get("statelessInputBytes").and_then(|v| v.as_str()) {
                    inputs.push(alloy_primitives::hex::decode(hex).expect("hex"));
                }
            }
        }
    }
    inputs
}
