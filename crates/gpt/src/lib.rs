//! GPT and MBR partition tables (placeholder; being written).
