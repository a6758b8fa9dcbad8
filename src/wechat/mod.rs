//! WeChat: the Official Account's wire protocol (`protocol`, pure and at the bottom layer).

pub mod protocol;
