//! Binding of the GPT encoder and reader (being written).
