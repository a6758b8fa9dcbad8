//! Learners: the audiences they choose, their children's age bands, and the privacy policy they
//! agree to when joining.

use serde::{Deserialize, Serialize};

use super::Text;

/// The version of the privacy policy a learner must accept, named in every consent record.
/// 2026-12 added how long backups keep data (30 days; see deploy/systemd/homeward-backup.service).
/// 2026-12-03 added that learners inactive for two years are told, then deleted 30 days later
/// (`HOMEWARD_RETAIN_INACTIVE_DAYS`, `HOMEWARD_INACTIVE_GRACE_DAYS`; `services::inactivity`).
pub const POLICY_VERSION: &str = "2026-12-03";

/// Age bands of a learner's children; optional, and only with their own consent.
pub const AGE_BANDS: [&str; 4] = ["0-2", "3-5", "6-11", "12-17"];

pub fn parse_age_band(raw: &str) -> Option<&'static str> {
    AGE_BANDS.iter().copied().find(|band| *band == raw.trim())
}

/// What a learner agrees to, in plain words.
pub fn policy_text() -> Text {
    Text::new(
        "归家课堂是一个公益学习项目，每周给在外打工的父母和青年工友发一节小课。\n\
         我们收集：您选的课程类型、语言、可选的昵称、您是通过哪个工厂和产线的二维码加入的，以及您的学习记录（看了哪些课、测验成绩）。不需要您的真实姓名、手机号或微信号。\n\
         为什么：为了给您推送合适的课程，记住您的进度，并让项目方知道课程有没有用。\n\
         谁能看到：工厂和班组长只能看到5人以上的汇总数字（比如多少人加入、完成率），看不到任何一个人的答案或昵称。\n\
         您的权利：您可以随时在“我的”页面查看、下载（JSON文件）或删除自己的全部数据。删除后，所有关于您的记录都会被清除；删除前做的备份里的副本，会在30天内随备份一起删除。\n\
         长期不用：如果您两年没有来过（没有打开过页面、没有学习记录），我们会通过微信告诉您，30天后仍没有回来，就删除您的全部数据。\n\
         备份：为了不丢失课程和学习记录，我们每天备份一次，每份备份保存30天后删除。备份只用来在数据损坏时恢复；如果恢复了一份在您删除数据之前做的备份，我们会再次删除您的记录。\n\
         孩子的年龄段是可选的，需要您另外同意才会保存。",
        "Homeward is a non-profit learning programme that sends a short weekly lesson to parents working far from home and to young workers.\n\
         What we collect: the series you pick, your language, an optional nickname, which factory and line's QR code you joined through, and your learning record (lessons opened, quiz scores). We never ask for your real name, phone number or WeChat ID.\n\
         Why: to send you the right lessons, remember your progress, and let the programme see whether the lessons help.\n\
         Who sees what: your factory and line manager see only totals for groups of 5 or more people (such as how many joined, completion rates), never one person's answers or nickname.\n\
         Your rights: at any time, on the “Me” page, you can see, download (as a JSON file) or delete everything held about you. Deleting removes every record about you; the copies in backups made before are deleted with those backups, within 30 days.\n\
         If you stop using it: after two years without a visit or any learning, we tell you through WeChat, and if you have not come back 30 days later we delete all your data.\n\
         Backups: so that lessons and learning records are never lost, we make a backup every day and delete each one after 30 days. Backups are used only to recover from a failure; if we ever restore one made before you deleted your data, we delete your records again.\n\
         Your children's age bands are optional and are kept only with your separate consent.",
    )
}

/// The separate consent for children's age bands.
pub fn children_consent_text() -> Text {
    Text::new(
        "我同意保存我孩子的年龄段（不保存孩子的姓名或其他信息），用来给我推荐合适的课程。",
        "I agree that my children's age bands (nothing else about them) are kept, to suggest the right lessons.",
    )
}

/// A learner's choices, as shown back to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub nickname: Option<String>,
    pub audience: super::Audience,
    pub lang: super::Lang,
    pub child_age_bands: Vec<String>,
}

/// Checks a nickname: optional, at most 30 characters, no control characters.
pub fn parse_nickname(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > 30 {
        return Err("nickname: at most 30 characters".into());
    }
    if raw.chars().any(char::is_control) {
        return Err("nickname: no control characters".into());
    }
    Ok(Some(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    /// The retention of backups is part of what learners agree to, in both languages, and
    /// matches the deletion in deploy/systemd/homeward-backup.service (none kept over 30 days).
    #[test]
    fn the_policy_names_how_long_backups_keep_data() {
        let policy = super::policy_text();
        assert!(policy.zh.contains("每份备份保存30天后删除"));
        assert!(policy.en.contains("delete each one after 30 days"));
        let unit = include_str!("../../deploy/systemd/homeward-backup.service");
        assert!(unit.contains("-mtime +28 -delete"));
    }

    /// Deleting inactive learners is part of what learners agree to, with the defaults' periods.
    #[test]
    fn the_policy_names_the_deletion_of_inactive_learners() {
        let policy = super::policy_text();
        assert!(policy.zh.contains("两年没有来过") && policy.zh.contains("30天后"));
        assert!(
            policy.en.contains("two years without a visit") && policy.en.contains("30 days later")
        );
    }
}
