/* placeholder until the mount lands */
int main(void)
{
	return 1;
}
