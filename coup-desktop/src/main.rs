//! CoUp desktop: everything is in the library (`coup_desktop::run`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]
fn main() {
    coup_desktop::run();
}
