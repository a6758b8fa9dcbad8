//! Children's ages: the age bands a lesson is for, whether it suits a learner's children, the
//! order that puts those lessons first, and the mark shown on them ("适合 6–11 岁").

use super::Lang;
use super::learner::AGE_BANDS;

/// Parses a lesson's age bands (as written in content files or the studio, comma or list
/// separated), in the order of [`AGE_BANDS`], without repeats. An unknown band is an error
/// naming it.
pub fn parse_bands<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut bands = Vec::new();
    for item in raw {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let band = super::learner::parse_age_band(item)
            .ok_or_else(|| format!("'{item}' is not an age band; use {}", AGE_BANDS.join(", ")))?;
        if !bands.iter().any(|b| b == band) {
            bands.push(band.to_owned());
        }
    }
    bands.sort_by_key(|b| AGE_BANDS.iter().position(|a| a == b));
    Ok(bands)
}

/// The stored form: bands joined by commas ("" for none).
pub fn join_bands(bands: &[String]) -> String {
    bands.join(",")
}

/// The stored form read back; anything unknown is dropped.
pub fn split_bands(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter_map(super::learner::parse_age_band)
        .map(str::to_owned)
        .collect()
}

/// A lesson suits a learner's children when they share a band.
pub fn suits(lesson_bands: &[String], children: &[String]) -> bool {
    lesson_bands.iter().any(|b| children.contains(b))
}

/// Stable: lessons suiting the children first, otherwise in their given order. With no
/// children's bands (no consent), the order is left as it was.
pub fn children_first<T>(items: &mut [T], children: &[String], bands: impl Fn(&T) -> &[String]) {
    if children.is_empty() {
        return;
    }
    items.sort_by_key(|item| !suits(bands(item), children));
}

/// "适合 6–11 岁" / "For ages 6–11": adjacent bands are merged into one range.
pub fn label(bands: &[String], lang: Lang) -> Option<String> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for band in bands {
        let (low, high) = band.split_once('-')?;
        let (low, high): (u32, u32) = (low.parse().ok()?, high.parse().ok()?);
        match ranges.last_mut() {
            Some(last) if last.1 + 1 == low => last.1 = high,
            _ => ranges.push((low, high)),
        }
    }
    if ranges.is_empty() {
        return None;
    }
    let text: Vec<String> = ranges.iter().map(|(l, h)| format!("{l}–{h}")).collect();
    Some(match lang {
        Lang::Zh => format!("适合 {} 岁", text.join("、")),
        Lang::En => format!("For ages {}", text.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bands_parse_in_order_without_repeats_and_unknown_ones_are_named() {
        assert_eq!(
            parse_bands(["6-11", " 3-5", "6-11", ""]),
            Ok(v(&["3-5", "6-11"]))
        );
        let error = parse_bands(["6-12"]).unwrap_err();
        assert!(error.contains("'6-12'") && error.contains("0-2, 3-5, 6-11, 12-17"));
        assert_eq!(
            split_bands(&join_bands(&v(&["0-2", "12-17"]))),
            v(&["0-2", "12-17"])
        );
        assert_eq!(split_bands(""), Vec::<String>::new());
    }

    #[test]
    fn labels_merge_adjacent_bands() {
        assert_eq!(label(&v(&["6-11"]), Lang::Zh).unwrap(), "适合 6–11 岁");
        assert_eq!(label(&v(&["6-11"]), Lang::En).unwrap(), "For ages 6–11");
        assert_eq!(
            label(&v(&["3-5", "6-11"]), Lang::Zh).unwrap(),
            "适合 3–11 岁"
        );
        assert_eq!(
            label(&v(&["0-2", "6-11"]), Lang::En).unwrap(),
            "For ages 0–2, 6–11"
        );
        assert_eq!(label(&[], Lang::Zh), None);
    }

    #[test]
    fn the_childrens_lessons_come_first_and_without_bands_nothing_moves() {
        let lessons = vec![
            ("a", v(&["0-2"])),
            ("b", v(&["6-11"])),
            ("c", v(&[])),
            ("d", v(&["6-11", "12-17"])),
        ];
        let mut ordered = lessons.clone();
        children_first(&mut ordered, &v(&["6-11"]), |l| &l.1);
        let names: Vec<&str> = ordered.iter().map(|l| l.0).collect();
        assert_eq!(names, ["b", "d", "a", "c"]);
        let mut unchanged = lessons.clone();
        children_first(&mut unchanged, &[], |l| &l.1);
        assert_eq!(unchanged, lessons);
    }
}
