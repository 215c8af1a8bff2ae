//! Automatic duplicate scans: every `duplicate_scan_every` each user's open
//! work (open actions, projects' pending tasks) is listed and fingerprinted;
//! a user whose work is as it was at the last scan (the watermark, kept in
//! memory) is not scanned, so a quiet Steward makes no model or embedding
//! call. After a restart the first tick scans once; pairs a model already
//! answered are not asked again (their answers are stored).

use std::collections::HashMap;
use std::time::Duration;

use steward_domain::UserId;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::usecases::{UseCaseError, UseCases};

/// What one tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Users whose work changed and was scanned.
    pub scanned: u32,
    /// Users whose work was as at the last scan: left alone.
    pub unchanged: u32,
    /// New flags.
    pub flagged: u32,
}

/// The periodic scan of every user's work.
pub struct DuplicateScans {
    use_cases: UseCases,
    every: Duration,
    watermarks: Mutex<HashMap<UserId, u64>>,
}

impl DuplicateScans {
    pub fn new(use_cases: UseCases, every: Duration) -> Self {
        DuplicateScans { use_cases, every, watermarks: Mutex::new(HashMap::new()) }
    }

    /// Scans at every period until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.every) => {}
            }
            match self.tick().await {
                Ok(report) if report.flagged > 0 => {
                    tracing::info!(flagged = report.flagged, "the duplicate scan flagged work");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the duplicate scan failed; it tries again next period"),
            }
        }
    }

    /// Scans each user whose work changed since the last tick.
    pub async fn tick(&self) -> Result<ScanReport, UseCaseError> {
        let mut report = ScanReport::default();
        for user in self.use_cases.store().list_users().await? {
            let inventory = self.use_cases.duplicate_inventory(user.id).await?;
            let fingerprint = inventory.fingerprint();
            if self.watermarks.lock().await.get(&user.id) == Some(&fingerprint) {
                report.unchanged += 1;
                continue;
            }
            let flagged = self.use_cases.scan_inventory(user.id, &inventory).await?;
            report.scanned += 1;
            report.flagged += u32::try_from(flagged.len()).unwrap_or(u32::MAX);
            self.watermarks.lock().await.insert(user.id, fingerprint);
        }
        Ok(report)
    }
}
