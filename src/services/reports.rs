//! What a factory's manager sees: totals for groups only. Every figure about fewer than 5
//! learners is hidden, including figures that subtraction would reveal (DESIGN.md rule 4): the
//! figures of one dashboard — lines and their total, active and all, weeks, codes, opened and
//! completed — are suppressed together as one `Figures` set.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::domain::Text;
use crate::domain::suppress::{Figure, Figures, MIN_GROUP, Shown};
use crate::services::Context;
use crate::services::staff::Staff;

/// Weeks of joins shown in the chart.
pub const CHART_WEEKS: i64 = 12;

#[derive(Clone, Debug)]
pub struct LineFigures {
    pub line_id: Option<i64>,
    pub name: String,
    pub learners: Shown,
    pub active_7: Shown,
    pub active_30: Shown,
    /// Average best quiz score as a share of the questions, over learners who took quizzes.
    pub average_score: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct LessonFigures {
    pub series: String,
    pub title: Text,
    pub opened: Shown,
    pub completed: Shown,
    pub completion_rate: Option<f64>,
    pub average_score: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub factory_id: i64,
    pub factory_name: Text,
    pub lines: Vec<LineFigures>,
    /// The whole factory; `None` for a manager limited to some lines (a total could be
    /// subtracted from their lines' figures to reveal others').
    pub total: Option<LineFigures>,
    /// Monday of each week (Asia/Shanghai) and the joins that week.
    pub joins_per_week: Vec<(chrono::NaiveDate, Shown)>,
    pub lessons: Vec<LessonFigures>,
    /// Joins per enrollment code in scope (learners still enrolled, so deleted accounts no
    /// longer count), by code id.
    pub code_joins: BTreeMap<i64, Shown>,
}

async fn rows(
    state: &Context,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    Ok(state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            sql,
            values,
        ))
        .await?)
}

fn int(row: &sea_orm::QueryResult, name: &str) -> i64 {
    row.try_get::<i64>("", name)
        .or_else(|_| row.try_get::<i32>("", name).map(i64::from))
        .unwrap_or(0)
}

fn float(row: &sea_orm::QueryResult, name: &str) -> Option<f64> {
    row.try_get::<Option<f64>>("", name).ok().flatten()
}

/// The dashboard of `factory_id` as `who` may see it.
pub async fn dashboard(
    state: &Context,
    who: &Staff,
    factory_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Dashboard>> {
    let Some(factory) = rows(
        state,
        "SELECT name_zh, name_en FROM factory WHERE id = $1",
        vec![factory_id.into()],
    )
    .await?
    .into_iter()
    .next() else {
        return Ok(None);
    };
    let factory_name = Text::new(
        factory.try_get::<String>("", "name_zh")?,
        factory.try_get::<String>("", "name_en")?,
    );
    let limited = who.line_ids.clone().filter(|ids| !ids.is_empty());
    let mut lines: Vec<(Option<i64>, String)> = rows(
        state,
        "SELECT id, name FROM line WHERE factory_id = $1 ORDER BY id",
        vec![factory_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        (
            Some(int(r, "id")),
            r.try_get::<String>("", "name").unwrap_or_default(),
        )
    })
    .filter(|(id, _)| {
        limited
            .as_ref()
            .is_none_or(|ids| id.is_some_and(|id| ids.contains(&id)))
    })
    .collect();
    if limited.is_none() {
        lines.push((None, "—".into()));
    }
    let in_scope = |line: Option<i64>| lines.iter().any(|(id, _)| *id == line);

    let count_by_line = |result: Vec<sea_orm::QueryResult>| -> BTreeMap<Option<i64>, u64> {
        result
            .iter()
            .map(|r| {
                (
                    r.try_get::<Option<i64>>("", "line_id").ok().flatten(),
                    int(r, "n").max(0) as u64,
                )
            })
            .filter(|(line, _)| in_scope(*line))
            .collect()
    };
    let learners = count_by_line(
        rows(
            state,
            "SELECT line_id, COUNT(*) AS n FROM learner WHERE factory_id = $1 GROUP BY line_id",
            vec![factory_id.into()],
        )
        .await?,
    );
    let active = |days: i64| {
        rows(
            state,
            "SELECT l.line_id AS line_id, COUNT(DISTINCT p.learner_id) AS n FROM lesson_progress p JOIN learner l ON l.id = p.learner_id \
             WHERE l.factory_id = $1 AND p.updated_at >= $2 GROUP BY l.line_id",
            vec![factory_id.into(), (now - Duration::days(days)).into()],
        )
    };
    let active_7 = count_by_line(active(7).await?);
    let active_30 = count_by_line(active(30).await?);
    let scores = rows(
        state,
        "SELECT l.line_id AS line_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n \
         FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = $1 AND a.total > 0 GROUP BY l.line_id",
        vec![factory_id.into()],
    )
    .await?;
    let score_of = |line: Option<i64>| {
        scores
            .iter()
            .find(|r| r.try_get::<Option<i64>>("", "line_id").ok().flatten() == line)
            .filter(|r| int(r, "n") as u64 >= MIN_GROUP)
            .and_then(|r| float(r, "avg"))
    };
    let show_total = limited.is_none();
    let mut figures = Figures::new();
    let of = |counts: &BTreeMap<Option<i64>, u64>, line: Option<i64>| {
        counts.get(&line).copied().unwrap_or(0)
    };
    // Per line: all learners ⊇ active in 30 days ⊇ active in 7 days.
    let line_cells: Vec<[Figure; 3]> = lines
        .iter()
        .map(|(id, _)| {
            let all = figures.figure(of(&learners, *id));
            let active30 = figures.figure(of(&active_30, *id));
            let active7 = figures.figure(of(&active_7, *id));
            figures.within(all, active30);
            figures.within(active30, active7);
            [all, active30, active7]
        })
        .collect();
    // The whole factory; for a manager limited to some lines it is not shown, but their lines
    // still add up to it.
    let column = |k: usize| line_cells.iter().map(|c| c[k]).collect::<Vec<_>>();
    let total_cells: [Figure; 3] = [0, 1, 2].map(|k| {
        let sum = column(k).iter().map(|f| figures.value(*f)).sum();
        figures.figure_if(show_total, sum)
    });
    for (k, total) in total_cells.iter().enumerate() {
        figures.sum(*total, &column(k));
    }
    figures.within(total_cells[0], total_cells[1]);
    figures.within(total_cells[1], total_cells[2]);

    // Joins per week, over the lines in scope.
    let tz = chrono_tz::Asia::Shanghai;
    let today = now.with_timezone(&tz).date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first_monday = this_monday - Duration::weeks(CHART_WEEKS - 1);
    let mut weekly: BTreeMap<chrono::NaiveDate, u64> = (0..CHART_WEEKS)
        .map(|w| (first_monday + Duration::weeks(w), 0))
        .collect();
    let mut before_window = 0u64;
    let mut by_code: BTreeMap<Option<i64>, u64> = BTreeMap::new();
    for row in rows(
        state,
        "SELECT line_id, code_id, created_at FROM learner WHERE factory_id = $1",
        vec![factory_id.into()],
    )
    .await?
    {
        let line = row.try_get::<Option<i64>>("", "line_id").ok().flatten();
        if !in_scope(line) {
            continue;
        }
        let code = row.try_get::<Option<i64>>("", "code_id").ok().flatten();
        *by_code.entry(code).or_default() += 1;
        let Ok(created) = row.try_get::<DateTime<Utc>>("", "created_at") else {
            continue;
        };
        let day = created.with_timezone(&tz).date_naive();
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        match weekly.get_mut(&monday) {
            Some(n) => *n += 1,
            None => before_window += 1,
        }
    }
    // The weeks and the joins before them add up to the learners in scope.
    let mut week_cells: Vec<Figure> = weekly.values().map(|n| figures.figure(*n)).collect();
    let before = figures.unshown(before_window);
    week_cells.push(before);
    figures.sum(total_cells[0], &week_cells);
    week_cells.pop();

    // Joins per code: a line's codes (and those who joined it otherwise) add up to its learners.
    let codes = crate::services::codes::scoped_codes(state, who, factory_id).await?;
    let mut code_cells: Vec<(i64, Figure)> = Vec::new();
    for (line, line_cell) in lines.iter().map(|(id, _)| *id).zip(&line_cells) {
        let mut parts = Vec::new();
        for code in codes.iter().filter(|c| c.line_id == line) {
            let cell = figures.figure(by_code.get(&Some(code.id)).copied().unwrap_or(0));
            code_cells.push((code.id, cell));
            parts.push(cell);
        }
        let by_codes: u64 = parts.iter().map(|p| figures.value(*p)).sum();
        let otherwise = figures.unshown(figures.value(line_cell[0]).saturating_sub(by_codes));
        parts.push(otherwise);
        figures.sum(line_cell[0], &parts);
    }

    // Opened ⊇ completed per lesson, over the lines in scope.
    let scope_sql = match &limited {
        Some(ids) => format!(
            " AND l.line_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    };
    let per_lesson = rows(
        state,
        &format!(
            "SELECT p.lesson_id AS lesson_id, COUNT(p.first_opened_at) AS opened, COUNT(p.completed_at) AS completed, \
                    COUNT(p.quiz_best_score) AS takers \
             FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = $1{scope_sql} GROUP BY p.lesson_id"
        ),
        vec![factory_id.into()],
    )
    .await?;
    let lesson_scores = rows(
        state,
        &format!(
            "SELECT a.lesson_id AS lesson_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n \
             FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = $1 AND a.total > 0{scope_sql} GROUP BY a.lesson_id"
        ),
        vec![factory_id.into()],
    )
    .await?;
    let catalog = crate::services::lessons::catalog(state).await?;
    let mut lesson_cells = Vec::new();
    for series in &catalog.series {
        for lesson in series.released(now) {
            let row = per_lesson.iter().find(|r| int(r, "lesson_id") == lesson.id);
            let opened = figures.figure(row.map(|r| int(r, "opened") as u64).unwrap_or(0));
            let completed = figures.figure(row.map(|r| int(r, "completed") as u64).unwrap_or(0));
            figures.within(opened, completed);
            let score = lesson_scores
                .iter()
                .find(|r| int(r, "lesson_id") == lesson.id)
                .filter(|r| int(r, "n") as u64 >= MIN_GROUP)
                .and_then(|r| float(r, "avg"));
            lesson_cells.push((
                series.slug.clone(),
                lesson.title.clone(),
                opened,
                completed,
                score,
            ));
        }
    }

    let shown = figures.solve();
    let line_figures: Vec<LineFigures> = lines
        .iter()
        .zip(&line_cells)
        .map(|((id, name), cells)| LineFigures {
            line_id: *id,
            name: name.clone(),
            learners: shown.get(cells[0]),
            active_30: shown.get(cells[1]),
            active_7: shown.get(cells[2]),
            average_score: score_of(*id),
        })
        .collect();
    let total = show_total.then(|| {
        let all_scores: Vec<(f64, u64)> = scores
            .iter()
            .filter_map(|r| Some((float(r, "avg")?, int(r, "n") as u64)))
            .collect();
        let takers: u64 = all_scores.iter().map(|(_, n)| n).sum();
        LineFigures {
            line_id: None,
            name: String::new(),
            learners: shown.get(total_cells[0]),
            active_30: shown.get(total_cells[1]),
            active_7: shown.get(total_cells[2]),
            average_score: (takers >= MIN_GROUP).then(|| {
                all_scores.iter().map(|(a, n)| a * *n as f64).sum::<f64>() / takers as f64
            }),
        }
    });
    let joins_per_week = weekly
        .keys()
        .copied()
        .zip(week_cells.iter().map(|c| shown.get(*c)))
        .collect();
    let lessons = lesson_cells
        .into_iter()
        .map(|(series, title, opened, completed, score)| LessonFigures {
            series,
            title,
            opened: shown.get(opened),
            completed: shown.get(completed),
            completion_rate: shown.share(completed, opened),
            average_score: score,
        })
        .collect();
    let code_joins = code_cells
        .into_iter()
        .map(|(id, cell)| (id, shown.get(cell)))
        .collect();
    Ok(Some(Dashboard {
        factory_id,
        factory_name,
        lines: line_figures,
        total,
        joins_per_week,
        lessons,
        code_joins,
    }))
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return
/// first) gets a leading `'`, which spreadsheets show as text.
fn plain_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The same figures as CSV; hidden figures read "<5". Every name is quoted and written as plain
/// text, never as something a spreadsheet would run.
pub fn csv(dashboard: &Dashboard) -> String {
    let cell = |s: Shown| {
        s.value()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "<5".into())
    };
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{:.1}", v * 100.0))
            .unwrap_or_else(|| "<5".into())
    };
    let quote = |s: &str| format!("\"{}\"", plain_cell(s).replace('"', "\"\""));
    let mut out = String::from(
        "section,name,learners,active_7_days,active_30_days,average_quiz_score_percent\n",
    );
    for line in dashboard.lines.iter().chain(dashboard.total.iter()) {
        let name = if line.name.is_empty() {
            "whole factory"
        } else {
            &line.name
        };
        out += &format!(
            "line,{},{},{},{},{}\n",
            quote(name),
            cell(line.learners),
            cell(line.active_7),
            cell(line.active_30),
            pct(line.average_score)
        );
    }
    out += "section,week_starting,joins\n";
    for (week, joins) in &dashboard.joins_per_week {
        out += &format!("joins,{week},{}\n", cell(*joins));
    }
    out += "section,series,lesson,opened,completed,completion_rate_percent,average_quiz_score_percent\n";
    for lesson in &dashboard.lessons {
        out += &format!(
            "lesson,{},{},{},{},{},{}\n",
            lesson.series,
            quote(&lesson.title.zh),
            cell(lesson.opened),
            cell(lesson.completed),
            pct(lesson.completion_rate),
            pct(lesson.average_score)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn formula_cells_become_text() {
        for formula in ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(super::plain_cell(formula).starts_with('\''), "{formula:?}");
        }
        assert_eq!(super::plain_cell("A3线"), "A3线");
        assert_eq!(super::plain_cell("<5"), "<5");
    }
}
