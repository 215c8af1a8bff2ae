//! Artifacts: one record per path of an action's folder (or an ad-hoc
//! run's), updated when written again; paths that leave the folder refused.

use steward_domain::{ActionId, ArtifactId, EventSubject, NewArtifact, RunId, UserId};
use steward_store::{ArtifactFilter, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, ad_hoc_run, agent_named, defined_action, event_kinds, run_of_action};

fn written(run: RunId, action_id: Option<ActionId>, path: &str, bytes: u64) -> NewArtifact {
    NewArtifact { user_id: USER, run_id: run, action_id, path: path.into(), bytes }
}

async fn writing_a_path_again_updates_its_record(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, action.id, run_of_action(&action)).await.unwrap();
    let post = store.record_artifact(written(run.id, Some(action.id), "drafts/post.md", 120)).await.unwrap();
    assert_eq!((post.action_id, post.run_id, post.bytes), (Some(action.id), run.id, 120));
    // The action is taken from the run when the writer does not name it.
    let notes = store.record_artifact(written(run.id, None, "notes.md", 10)).await.unwrap();
    assert_eq!(notes.action_id, Some(action.id));

    t.clock.advance(chrono::Duration::seconds(5));
    let rewritten = store.record_artifact(written(run.id, Some(action.id), "drafts/post.md", 480)).await.unwrap();
    assert_eq!((rewritten.id, rewritten.bytes, rewritten.created_at), (post.id, 480, post.created_at));
    assert!(rewritten.updated_at > post.updated_at);

    let by_action = ArtifactFilter { action_id: Some(action.id), ..ArtifactFilter::default() };
    let paths: Vec<String> =
        store.list_artifacts(USER, by_action).await.unwrap().into_iter().map(|artifact| artifact.path).collect();
    assert_eq!(paths, ["drafts/post.md", "notes.md"], "by path");
    let kinds = event_kinds(store, EventSubject::Artifact, post.id.get()).await;
    assert_eq!(kinds, ["artifact.written", "artifact.written"]);
}

async fn an_ad_hoc_run_has_a_folder_of_its_own(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let first = store.start_run(USER, ad_hoc_run(agent, "one")).await.unwrap();
    let second = store.start_run(USER, ad_hoc_run(agent, "two")).await.unwrap();
    let a = store.record_artifact(written(first.id, None, "out.txt", 1)).await.unwrap();
    let b = store.record_artifact(written(second.id, None, "out.txt", 2)).await.unwrap();
    assert_ne!(a.id, b.id, "the same path in two runs' folders");
    assert_eq!(store.record_artifact(written(first.id, None, "out.txt", 3)).await.unwrap().id, a.id);
    let of_first = ArtifactFilter { run_id: Some(first.id), ..ArtifactFilter::default() };
    let listed = store.list_artifacts(USER, of_first).await.unwrap();
    assert_eq!((listed.len(), listed[0].bytes), (1, 3));
    assert_eq!(store.list_artifacts(USER, ArtifactFilter::default()).await.unwrap().len(), 2);
}

async fn paths_must_stay_inside_and_runs_must_exist(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = defined_action(store, agent).await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    for bad in ["../escape.md", "/etc/passwd", "a/../../b", "", "C:/x"] {
        match store.record_artifact(written(run.id, None, bad, 1)).await.unwrap_err() {
            StoreError::Invalid(error) => assert_eq!(error.field, "path", "{bad:?}"),
            other => panic!("expected invalid input for {bad:?}, got {other:?}"),
        }
    }
    match store.record_artifact(written(run.id, Some(action.id), "x.md", 1)).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "action_id"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let missing = store.record_artifact(written(RunId(999), None, "x.md", 1)).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing:?}");
    // Another user cannot record into this user's run, nor list its files.
    let stranger = NewArtifact { user_id: UserId(2), ..written(run.id, None, "x.md", 1) };
    assert!(matches!(store.record_artifact(stranger).await.unwrap_err(), StoreError::NotFound { .. }));
    store.record_artifact(written(run.id, None, "x.md", 1)).await.unwrap();
    assert!(store.list_artifacts(UserId(2), ArtifactFilter::default()).await.unwrap().is_empty());
    assert_eq!(store.list_artifacts(USER, ArtifactFilter::default()).await.unwrap().len(), 1);
}

async fn an_artifact_is_got_by_id_for_its_user_only(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let recorded = store.record_artifact(written(run.id, None, "out/report.md", 42)).await.unwrap();
    let got = store.get_artifact(USER, recorded.id).await.unwrap();
    assert_eq!(got, recorded);
    assert_eq!((got.path.as_str(), got.bytes, got.run_id), ("out/report.md", 42, run.id));
    let stranger = store.get_artifact(UserId(2), recorded.id).await.unwrap_err();
    assert!(matches!(stranger, StoreError::NotFound { .. }), "{stranger:?}");
    let missing = store.get_artifact(USER, ArtifactId(recorded.id.get() + 100)).await.unwrap_err();
    assert_eq!(missing.to_string(), format!("artifact {} not found", recorded.id.get() + 100));
}

store_tests!(
    an_artifact_is_got_by_id_for_its_user_only,
    writing_a_path_again_updates_its_record,
    an_ad_hoc_run_has_a_folder_of_its_own,
    paths_must_stay_inside_and_runs_must_exist,
);
