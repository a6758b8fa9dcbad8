//! Interface strings of the background jobs page, in Chinese and English.

use crate::domain::Lang;

pub struct JobsUi {
    pub title: &'static str,
    pub summary: &'static str,
    pub queued: &'static str,
    pub running: &'static str,
    pub failed: &'static str,
    pub dead: &'static str,
    pub oldest_wait: &'static str,
    pub seconds: &'static str,
    pub attempts: &'static str,
    pub run_at: &'static str,
    pub last_error: &'static str,
    pub retry: &'static str,
    pub none: &'static str,
    pub retried: &'static str,
    pub not_retryable: &'static str,
    pub back_to_admin: &'static str,
}

static ZH: JobsUi = JobsUi {
    title: "后台任务",
    summary: "概况",
    queued: "排队中",
    running: "运行中",
    failed: "失败待重试",
    dead: "已放弃",
    oldest_wait: "最久等待",
    seconds: "秒",
    attempts: "尝试次数",
    run_at: "计划时间",
    last_error: "最近错误",
    retry: "重试",
    none: "没有任务。",
    retried: "任务已重新排队。",
    not_retryable: "这个任务不是失败或已放弃的状态，无法重试。",
    back_to_admin: "返回系统管理",
};

static EN: JobsUi = JobsUi {
    title: "Background jobs",
    summary: "Summary",
    queued: "Queued",
    running: "Running",
    failed: "Failed, will retry",
    dead: "Dead",
    oldest_wait: "Oldest wait",
    seconds: "s",
    attempts: "Attempts",
    run_at: "Run at",
    last_error: "Last error",
    retry: "Retry",
    none: "No jobs.",
    retried: "The job is queued again.",
    not_retryable: "That job is not failed or dead, so it cannot be retried.",
    back_to_admin: "Back to admin",
};

pub fn jobs_ui(lang: Lang) -> &'static JobsUi {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}
