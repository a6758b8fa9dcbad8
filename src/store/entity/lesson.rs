use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lesson")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub series_id: i64,
    pub slug: String,
    pub week: i32,
    pub kind: String,
    pub status: String,
    pub release_override: Option<DateTimeUtc>,
    pub release_at: DateTimeUtc,
    pub title_zh: String,
    pub title_en: String,
    pub summary_zh: String,
    pub summary_en: String,
    pub body_json: String,
    pub quiz_json: Option<String>,
    pub content_hash: String,
    pub updated_at: DateTimeUtc,
    pub studio_edited_at: Option<DateTimeUtc>,
    pub family_json: String,
    pub age_bands: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
