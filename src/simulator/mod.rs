//! The built-in warehouse simulator (being written).
