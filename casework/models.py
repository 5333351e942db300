"""Imports every model so that the metadata is complete (Alembic, create_all)."""
from casework.accounts.models import User, UserRole  # noqa: F401
from casework.agencies.models import Agency  # noqa: F401
from casework.assignments.models import (  # noqa: F401
    Assignment, AssignmentNote, Disposition, DispositionAction,
)
from casework.audit.models import AuditChainHead, AuditEvent  # noqa: F401
from casework.calendar.models import CalendarDay, CalendarYear  # noqa: F401
from casework.referrals.models import Assessment, Referral  # noqa: F401
from casework.targets.models import ReferralTarget, Target, TargetStatusCheck  # noqa: F401
from casework.evidence.models import Evidence  # noqa: F401
from casework.notices.models import Notice, NoticeCounter  # noqa: F401
from casework.inbox.indexes import INBOX_INDEXES  # noqa: F401
from casework.inbox.models import DeskCount, DeskToken  # noqa: F401
from casework.workflow import models as workflow_models  # noqa: F401
from casework.agencies.seals import AgencySeal  # noqa: F401
from casework.admin.denials import AccessDenialWindow  # noqa: F401
from casework.notifications.models import JobRun, MailDelivery, MailSettings, Notification  # noqa: F401
from casework.comments.models import Comment  # noqa: F401
