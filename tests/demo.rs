//! The README's first command, `cargo run --example demo`, keeps working: every step of the
//! story behaves as shown and the demo exits 0.

use std::process::Command;

#[test]
fn demo_plays_the_whole_story() {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in 1..=7 {
        assert!(
            stdout.contains(&format!("[{step}] ")),
            "step {step} missing:\n{stdout}"
        );
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert_eq!(stdout.matches(" ok ").count(), 9, "{stdout}");
    assert!(
        stdout.contains("VERDICT: all 9 checks behaved as expected"),
        "{stdout}"
    );
    assert!(stdout.contains(r#"401  WWW-Authenticate: DPoP error="invalid_token""#));
    assert!(stdout.contains(r#"error="use_dpop_nonce""#));
}
