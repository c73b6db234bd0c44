"""Tasks take ids and call a service; each is safe to run twice (the service claims the row)."""

from celery import shared_task

from kyc import services


@shared_task(name="kyc.tasks.kyc_verify_task", ignore_result=True)
def kyc_verify_task(profile_id: int) -> None:
    services.kyc_verify(profile_id=profile_id)


@shared_task(name="kyc.tasks.bank_account_verify_task", ignore_result=True)
def bank_account_verify_task(bank_account_id: int) -> None:
    services.bank_account_verify(bank_account_id=bank_account_id)


@shared_task(name="kyc.tasks.verification_sweep_task", ignore_result=True)
def verification_sweep_task() -> dict:
    return services.verification_sweep()
