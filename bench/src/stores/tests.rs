//! Unit tests of the store scenarios' helpers.

use super::*;

#[test]
fn the_pushed_content_is_json_with_its_order_number() {
    let content: serde_json::Value = serde_json::from_str(&order_status("PUSH-7")).expect("json");
    assert_eq!(content["orderNumber"], "PUSH-7");
    assert_eq!(content["skuList"][0]["quantity"], 4);
}

#[test]
fn the_temp_dir_is_on_some_file_system() {
    assert!(filesystem_of(&std::env::temp_dir()).is_some());
    assert_eq!(filesystem_of(FsPath::new("/no/such/dir")), None);
}
