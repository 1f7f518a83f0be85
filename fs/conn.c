/* conn.c: placeholder until the module lands */
int azsf_conn_placeholder_(void);
int azsf_conn_placeholder_(void)
{
	return 0;
}
