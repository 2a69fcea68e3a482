//! The signed-in user's own account (`/api/users/me`), leaving a study, and
//! reporting: REST calls through the client, nothing cached to keep offline.

use coup_core::api::accounts::{PasswordChange, ProfilePatch};
use coup_core::api::reports::NewReport;
use coup_core::ids::StudyId;
use coup_core::model::{Report, User};

rest_commands! {
    rest me() -> User = |api| api.me();
    rest update_me(patch: ProfilePatch) -> User = |api| api.update_me(&patch);
    /// Changes the password (the server ends the user's other sessions).
    rest change_password(input: PasswordChange) -> () = |api| api.change_password(&input);
    /// Leaves a study; the cache forgets it.
    change leave_study(study_id: StudyId) -> () = |api| api.leave_study(study_id);
    rest create_report(input: NewReport) -> Report = |api| api.create_report(&input);
}
