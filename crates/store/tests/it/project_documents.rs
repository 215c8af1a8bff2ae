//! Phase documents the project tests propose: one requirement with one
//! criterion, and a minimal design.

use steward_domain::project::{Criterion, DesignDocument, PhaseDocument, Requirement, RequirementsDocument};

pub fn requirements(criterion: &str) -> PhaseDocument {
    PhaseDocument::Requirements(RequirementsDocument {
        title: "Todo".into(),
        requirements: vec![Requirement {
            id: "R1".into(),
            title: "Add items".into(),
            story: "As a user, I want to add items, so that I remember them".into(),
            priority: None,
            criteria: vec![Criterion { id: "R1.1".into(), text: criterion.into() }],
        }],
        ..RequirementsDocument::default()
    })
}

pub fn design() -> PhaseDocument {
    PhaseDocument::Design(DesignDocument {
        title: "Todo".into(),
        architecture: "A parser and a store".into(),
        ..DesignDocument::default()
    })
}
