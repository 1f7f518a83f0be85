/* placeholder */
int azsf_mount_placeholder_(void);
int azsf_mount_placeholder_(void)
{
	return 0;
}
