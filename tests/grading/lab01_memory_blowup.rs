//! A lab that keeps a 16 MiB buffer per lookup and never lets one go: its check's memory
//! limit stops it, and only that check ends.
//!
//! expect: error crashed

use leaklab_clinic::LabSystem;

pub async fn fetch_lab_result(_lab: LabSystem, patient: u32) -> Option<String> {
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    loop {
        buffers.push(vec![0; 16 << 20]);
        if buffers.len() == usize::MAX {
            return Some(format!("patient {patient}"));
        }
    }
}
