//! Placeholder until the generator lands (see branch demo-data).
pub fn generate(_out: &std::path::Path) -> anyhow::Result<String> {
    anyhow::bail!("the demo generator is not merged yet")
}
