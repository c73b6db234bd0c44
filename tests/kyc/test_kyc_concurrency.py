import threading
from datetime import date

import pytest
from django.db import connection

from kyc import services
from kyc.errors import PanAlreadyRegistered
from kyc.models import KYCProfile
from tests.accounts.factories import UserFactory
from tests.conftest import requires_postgres


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_users_racing_for_one_pan_leave_it_with_exactly_one():
    users = [UserFactory() for _ in range(4)]
    barrier = threading.Barrier(len(users), timeout=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(user):
        try:
            barrier.wait()
            services.kyc_submit(user=user, kind="individual", full_name=user.name, pan="ABCPR4321K",
                                date_of_birth=date(1990, 1, 1))
            result = "ok"
        except PanAlreadyRegistered:
            result = "refused"
        except Exception as exc:  # anything else is a bug the assertion below shows
            result = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert KYCProfile.objects.count() == 1
