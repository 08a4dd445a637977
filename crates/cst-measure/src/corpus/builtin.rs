//! Placeholder: the deterministic built-in corpus generator is being written (replaced by the real one).

/// One generated file.
pub struct GeneratedFile {
    pub path: String,
    pub text: String,
}

/// Placeholder until the generator lands.
pub fn generate() -> Vec<GeneratedFile> {
    Vec::new()
}
