//! Binding of the FAT32 reader (being written).
