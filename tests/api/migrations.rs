//! Migrations run up, down and up again on both backends.

use crate::helpers::TestDatabase;

#[tokio::test]
async fn migrations_are_reversible() {
    let db = TestDatabase::create().await;
    let conn = homeward::store::connect(&db.url).await.unwrap();
    homeward::store::migrate_up(&conn).await.unwrap();
    assert!(
        homeward::store::pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    let applied = homeward::store::applied_migrations(&conn)
        .await
        .unwrap()
        .len() as u32;
    homeward::store::migrate_down(&conn, applied).await.unwrap();
    assert_eq!(
        homeward::store::pending_migrations(&conn)
            .await
            .unwrap()
            .len() as u32,
        applied
    );
    homeward::store::migrate_up(&conn).await.unwrap();
    assert!(
        homeward::store::pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    conn.close().await.unwrap();
}
